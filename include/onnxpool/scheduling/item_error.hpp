#pragma once
// The scheduler's errors: one item's failure (ItemError), a run_all's failures (RunError), and the
// message of a queued item that never ran because the scheduler was shut down.
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool {

// An item's failure: which item and which worker, plus the cause's message.
// what() is "item 7 on worker cpu#1: <cause>" ("item 7: <cause>" when no worker is known).
class ItemError : public Error {
 public:
  ItemError(std::size_t item, std::string worker, const std::string& cause);
  [[nodiscard]] std::size_t item() const noexcept { return item_; }
  [[nodiscard]] const std::string& worker() const noexcept { return worker_; }
  [[nodiscard]] const std::string& cause() const noexcept { return cause_; }

 private:
  std::size_t item_;
  std::string worker_;
  std::string cause_;
};

// run_all's failure: "2 of 16 items failed; first: item 3 on worker cpu#1: <cause>"; failures() lists
// every failed item, by item index.
class RunError : public Error {
 public:
  // `failures` must not be empty and must be sorted by item index.
  RunError(std::size_t item_count, std::vector<ItemError> failures);
  [[nodiscard]] const std::vector<ItemError>& failures() const noexcept { return failures_; }
  [[nodiscard]] std::size_t item_count() const noexcept { return item_count_; }

 private:
  std::size_t item_count_;
  std::vector<ItemError> failures_;
};

namespace detail {
// The message of the exception in flight: what() for std::exception, "unknown exception" otherwise.
std::string describe(const std::exception_ptr& error);
// What an item queued but never started fails with when the scheduler shuts down.
inline constexpr std::string_view cancelled_message = "cancelled: the scheduler was shut down";
}  // namespace detail

}  // namespace onnxpool
