// The non-template parts of the scheduler: policy names, error messages, slot validation.
#include "onnxpool/scheduler.hpp"

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool {

Policy parse_policy(std::string_view name) {
  if (name == "static") return Policy::Static;
  if (name == "dynamic") return Policy::Dynamic;
  throw Error("unknown policy '" + std::string(name) + "' (expected static or dynamic)");
}

std::string_view policy_name(Policy policy) {
  switch (policy) {
    case Policy::Static:
      return "static";
    case Policy::Dynamic:
      return "dynamic";
  }
  return "unknown";  // only reachable through a cast of an out-of-range value
}

namespace {
std::string item_error_message(std::size_t item, const std::string& worker, const std::string& cause) {
  std::string message = "item " + std::to_string(item);
  if (!worker.empty()) message += " on worker " + worker;
  return message + ": " + cause;
}

std::string run_error_message(std::size_t item_count, const std::vector<ItemError>& failures) {
  if (failures.empty()) return "0 of " + std::to_string(item_count) + " items failed";
  return std::to_string(failures.size()) + " of " + std::to_string(item_count) +
         " items failed; first: " + failures.front().what();
}

std::string describe_slot(std::size_t position, const std::string& name) {
  return name.empty() ? "worker slot " + std::to_string(position)
                      : "worker '" + name + "' (slot " + std::to_string(position) + ")";
}
}  // namespace

ItemError::ItemError(std::size_t item, std::string worker, const std::string& cause)
    : Error(item_error_message(item, worker, cause)), item_(item), worker_(std::move(worker)), cause_(cause) {}

RunError::RunError(std::size_t item_count, std::vector<ItemError> failures)
    : Error(run_error_message(item_count, failures)), item_count_(item_count), failures_(std::move(failures)) {}

namespace detail {

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown exception";
  }
}

void require_workers(std::size_t count) {
  if (count == 0) throw Error("scheduler needs at least one worker (got an empty worker list)");
}

void require_valid_slot(std::size_t position, const std::string& name, bool has_run, std::size_t max_batch) {
  if (!has_run) throw Error(describe_slot(position, name) + " has no run function");
  if (max_batch == 0) throw Error(describe_slot(position, name) + " has max_batch 0 (must be at least 1)");
}

}  // namespace detail
}  // namespace onnxpool
