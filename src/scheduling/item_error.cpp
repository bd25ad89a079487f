#include "onnxpool/scheduling/item_error.hpp"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool {

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

}  // namespace detail
}  // namespace onnxpool
