// The checks that the worker slots can make a scheduler; the messages name the slot by position and name.
#include "onnxpool/scheduling/worker_slot.hpp"

#include <string>

#include "onnxpool/error.hpp"

namespace onnxpool::detail {

namespace {
std::string describe_slot(std::size_t position, const std::string& name) {
  return name.empty() ? "worker slot " + std::to_string(position)
                      : "worker '" + name + "' (slot " + std::to_string(position) + ")";
}
}  // namespace

void require_workers(std::size_t count) {
  if (count == 0) throw Error("scheduler needs at least one worker (got an empty worker list)");
}

void require_valid_slot(std::size_t position, const std::string& name, bool has_run, std::size_t max_batch) {
  if (!has_run) throw Error(describe_slot(position, name) + " has no run function");
  if (max_batch == 0) throw Error(describe_slot(position, name) + " has max_batch 0 (must be at least 1)");
}

}  // namespace onnxpool::detail
