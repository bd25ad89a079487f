#pragma once
// A queued item and where its outcome goes: the caller's promise (submit) or its run_all call's Group.
// Each task is completed exactly once: succeed(), fail() or, when the scheduler shuts down before it
// starts, cancel().
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"
#include "onnxpool/scheduling/item_error.hpp"

namespace onnxpool::detail {

// The items of one run_all call complete into one group: each result goes to its slot and the caller is
// woken once, when the last item is done. A future per item would wake the waiting caller once per item
// (a futex wake and a context switch each: most of the pool's per-item cost on a model that runs in
// microseconds).
template <class Result>
class Group {
 public:
  explicit Group(std::size_t count) : results_(count), errors_(count), remaining_(count) {}
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  void complete(std::size_t index, std::optional<Result> result, std::optional<ItemError> error) {
    // Each slot is written by exactly one worker; the mutex then publishes it to the waiting caller.
    results_[index] = std::move(result);
    errors_[index] = std::move(error);
    const std::lock_guard lock(mutex_);
    if (--remaining_ == 0) all_done_.notify_one();
  }
  // Every item failed without being queued (the scheduler was already shut down).
  void cancel_all() {
    for (std::size_t i = 0; i < errors_.size(); ++i) {
      errors_[i].emplace(i, std::string(), std::string(cancelled_message));
    }
    remaining_ = 0;
  }
  void wait() {
    std::unique_lock lock(mutex_);
    all_done_.wait(lock, [&] { return remaining_ == 0; });
  }
  // After wait(): the results in item order, or RunError listing every failed item.
  std::vector<Result> take_results() {
    std::vector<ItemError> failures;
    for (auto& error : errors_) {
      if (error) failures.push_back(std::move(*error));
    }
    if (!failures.empty()) throw RunError(results_.size(), std::move(failures));
    std::vector<Result> results;
    results.reserve(results_.size());
    for (auto& result : results_) results.push_back(std::move(*result));
    return results;
  }

 private:
  std::vector<std::optional<Result>> results_;
  std::vector<std::optional<ItemError>> errors_;
  std::mutex mutex_;
  std::condition_variable all_done_;
  std::size_t remaining_;  // guarded by mutex_
};

template <class Item, class Result>
struct Task {
  Item item;
  std::size_t index = 0;  // the number an ItemError names
  // submit(): the caller's future. Empty for run_all's tasks: a default promise would allocate a shared
  // state and, destroyed unset, build a broken_promise exception, per item.
  std::optional<std::promise<Result>> promise;
  Group<Result>* group = nullptr;                  // run_all(): where the outcome goes instead (outlives the task)
  std::chrono::steady_clock::time_point queued{};  // when it was submitted: its wait in the queue ends at its run

  void succeed(Result result) {
    if (group != nullptr) {
      group->complete(index, std::move(result), std::nullopt);
    } else {
      promise->set_value(std::move(result));
    }
  }
  void fail(const std::string& worker, const std::string& cause) {
    ItemError error(index, worker, cause);
    if (group != nullptr) {
      group->complete(index, std::nullopt, std::move(error));
    } else {
      promise->set_exception(std::make_exception_ptr(std::move(error)));
    }
  }
  // Never started: a plain Error for a submitted item (it ran on no worker), an ItemError in a group
  // (RunError lists failures by item).
  void cancel() {
    if (group != nullptr) {
      group->complete(index, std::nullopt, ItemError(index, std::string(), std::string(cancelled_message)));
    } else {
      promise->set_exception(std::make_exception_ptr(Error(std::string(cancelled_message))));
    }
  }
};

}  // namespace onnxpool::detail
