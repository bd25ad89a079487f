#pragma once
// Runs a worker's batches and completes their tasks. Failures stay with their item: a batch of several
// items that throws (or returns the wrong number of results) is retried item by item on the same worker,
// so one bad item fails alone, with an ItemError naming item and worker. Each call of `run` is timed
// (with the submission's, the only clock reads of the hot path) for the statistics, the items' waits
// in the queue and the dynamic policy's pace.
#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "onnxpool/scheduling/item_error.hpp"
#include "onnxpool/scheduling/stats_recorder.hpp"
#include "onnxpool/scheduling/task.hpp"
#include "onnxpool/scheduling/worker_slot.hpp"

namespace onnxpool::detail {

template <class Item, class Result>
class BatchRunner {
 public:
  using Slot = WorkerSlot<Item, Result>;
  using Task = detail::Task<Item, Result>;

  BatchRunner(const Slot& slot, std::size_t worker, StatsRecorder& stats)
      : slot_(slot), worker_(worker), stats_(stats) {
    batch_.reserve(slot.max_batch);
  }

  // Runs the tasks' items as one batch and completes every task; returns the seconds spent inside `run`
  // (retries included): what the worker's pace is learnt from.
  double run(std::vector<Task>& tasks) {
    batch_.clear();  // reused across batches: no allocation per item
    for (Task& task : tasks) batch_.push_back(std::move(task.item));

    // The tasks' wait in the queue ends as their first run starts (the clock read attempt() makes).
    waited_ = &tasks;
    if (batch_.size() == 1) return run_one(batch_, tasks[0]);
    Attempt whole = attempt(batch_);
    if (whole.error.empty()) {
      // Stats before completion: whoever waits on the last item then sees complete stats.
      stats_.record(worker_,
                    {.runs = 1, .items = batch_.size(), .seconds = whole.seconds, .queue_seconds = whole.queue});
      for (std::size_t i = 0; i < tasks.size(); ++i) tasks[i].succeed(std::move(whole.results[i]));
      return whole.seconds;
    }
    // The batch failed as a whole: retry item by item so one bad item fails alone.
    stats_.record(worker_, {.runs = 1, .seconds = whole.seconds, .queue_seconds = whole.queue});
    double seconds = whole.seconds;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      std::vector<Item> single;
      single.push_back(std::move(batch_[i]));
      seconds += run_one(single, tasks[i]);
    }
    return seconds;
  }

  // The worker's on_start failed: each task fails with `cause`, nothing runs.
  void fail_all(std::vector<Task>& tasks, const std::string& cause) {
    for (Task& task : tasks) {
      stats_.record(worker_, {.items = 1, .failures = 1});
      task.fail(slot_.name, cause);
    }
  }

 private:
  // A call of `run`: its results, or the reason it failed.
  struct Attempt {
    std::vector<Result> results;
    std::string error;  // empty when `run` returned the right number of results
    double seconds = 0.0;
    double queue = 0.0;  // the first attempt of a batch: its tasks' waits in the queue, summed
  };

  Attempt attempt(std::vector<Item>& batch) {
    Attempt result;
    const auto start = std::chrono::steady_clock::now();
    if (waited_ != nullptr) {
      for (const Task& task : *waited_) result.queue += std::chrono::duration<double>(start - task.queued).count();
      waited_ = nullptr;  // a retry's start is not the end of a wait
    }
    try {
      result.results = slot_.run(batch);
    } catch (...) {
      result.error = describe(std::current_exception());
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (result.error.empty() && result.results.size() != batch.size()) {
      result.error = "worker returned " + std::to_string(result.results.size()) + " results for " +
                     (batch.size() == 1 ? std::string("1 item") : std::to_string(batch.size()) + " items");
    }
    if (!result.error.empty()) result.results.clear();
    return result;
  }

  double run_one(std::vector<Item>& single, Task& task) {
    Attempt one = attempt(single);
    if (one.error.empty()) {
      stats_.record(worker_, {.runs = 1, .items = 1, .seconds = one.seconds, .queue_seconds = one.queue});
      task.succeed(std::move(one.results.front()));
    } else {
      stats_.record(worker_,
                    {.runs = 1, .items = 1, .failures = 1, .seconds = one.seconds, .queue_seconds = one.queue});
      task.fail(slot_.name, one.error);
    }
    return one.seconds;
  }

  const Slot& slot_;
  const std::size_t worker_;
  StatsRecorder& stats_;
  std::vector<Item> batch_;
  const std::vector<Task>* waited_ = nullptr;  // the batch whose queue waits the next attempt ends
};

}  // namespace onnxpool::detail
