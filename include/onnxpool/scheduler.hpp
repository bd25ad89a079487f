#pragma once
// Scheduler: runs items on a fixed set of workers, each on its own thread, and hands back one future per
// item. It knows nothing of ONNX Runtime: a worker is "something that runs a batch of items", so the
// scheduling (static split, dynamic pull, batching, failures, shutdown) is tested with fake workers of
// chosen speeds under ThreadSanitizer.
//
// Two policies:
//  - Static: item k goes to worker (k mod W)'s own queue, the split fixed up front (the tutorial's
//    imgs[i::W]); the slowest worker bounds the wall time.
//  - Dynamic: one shared queue; a free worker pulls the next items (up to its max_batch of those already
//    queued, never waiting for more), so fast workers take more. At the tail it looks ahead: each worker's
//    seconds per item are learnt from its runs, and a free worker declines the queue's items when the
//    others would finish all of them sooner without it (a CPU worker does not take the last item a GPU
//    would have done in a fraction of the time, which would make the whole run wait for the CPU). See
//    decide().
//
// Failures stay with their item: a batch that throws (or returns the wrong number of results) is retried
// item by item on the same worker, and a failed item's future throws ItemError naming item and worker. A
// worker whose on_start throws still takes items (so no static queue waits forever) and fails each with
// "on_start failed: <cause>". `run` may call submit() but must not call run_all() on its own scheduler
// (it would wait for items queued behind itself).
//
// Locking: one mutex guards every queue, the stop flag, the submission counter and the workers' paces;
// under Static each queue has its own condition variable so a submit wakes only the worker it is for,
// under Dynamic each worker has one so that a worker declining items can wake the one it leaves them to.
// Statistics have their own mutex so reading them never contends with the queues.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool {

enum class Policy { Static, Dynamic };

// "static" | "dynamic"; anything else throws Error("unknown policy 'x' (expected static or dynamic)").
Policy parse_policy(std::string_view name);
std::string_view policy_name(Policy policy);

template <class Item, class Result>
struct WorkerSlot {
  std::string name;                // e.g. "cpu#1"; appears in error messages
  std::size_t max_batch = 1;       // at most this many items handed to `run` at once
  std::function<void()> on_start;  // optional; runs once on the worker's own thread before any item
  // Runs a batch (1..max_batch items, in submission order) and returns exactly one Result per item, in
  // the same order. The batch is passed by reference and must be left intact (not moved from): if `run`
  // throws or returns the wrong number of results for a batch of several items, the scheduler retries
  // those same items one by one.
  std::function<std::vector<Result>(std::vector<Item>& batch)> run;
};

struct WorkerStats {
  std::string name;
  std::size_t items = 0;      // items completed on this worker, successes and failures
  std::size_t batches = 0;    // calls to `run`, retries of a failed batch's items included
  std::size_t failures = 0;   // items that failed
  double busy_seconds = 0.0;  // steady_clock time spent inside `run`
};

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
// Throw Error when the slots cannot make a scheduler: none at all, or a slot (named by its position and
// name) without a run function or with max_batch 0.
void require_workers(std::size_t count);
void require_valid_slot(std::size_t position, const std::string& name, bool has_run, std::size_t max_batch);
inline constexpr std::string_view cancelled_message = "cancelled: the scheduler was shut down";
}  // namespace detail

template <class Item, class Result>
class Scheduler {
 public:
  using Slot = WorkerSlot<Item, Result>;

  // Starts one thread per worker. Throws Error if `workers` is empty, a slot has no run function or a
  // max_batch of 0.
  Scheduler(std::vector<Slot> workers, Policy policy);
  // Stops taking items; the items not yet started fail with Error("cancelled: the scheduler was shut
  // down"), the batches in flight finish, the threads are joined. Every future is left set.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  Scheduler(Scheduler&&) = delete;
  Scheduler& operator=(Scheduler&&) = delete;

  // Items are numbered by a running counter over all submit() calls; under Static, item k goes to
  // worker k mod W. A failed item's future throws ItemError.
  [[nodiscard]] std::future<Result> submit(Item item);

  // Runs all items (numbered 0..n-1 in this call; under Static, item i goes to worker i mod W), waits
  // for all and returns the results in input order. If any failed, the others still finish, then it
  // throws RunError. Safe to call concurrently with submit() and other run_all() calls: the items of one
  // call are queued together, behind what is already queued.
  std::vector<Result> run_all(std::vector<Item> items);

  [[nodiscard]] std::vector<WorkerStats> stats() const;  // per worker, in worker order
  void reset_stats();
  [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }
  [[nodiscard]] Policy policy() const noexcept { return policy_; }

 private:
  // The items of one run_all call complete into one group: each result goes to its slot and the
  // caller is woken once, when the last item is done. A future per item would wake the waiting caller
  // once per item (a futex wake and a context switch each: most of the pool's per-item cost on a
  // model that runs in microseconds).
  struct Group {
    explicit Group(std::size_t count) : results(count), errors(count), remaining(count) {}
    std::vector<std::optional<Result>> results;
    std::vector<std::optional<ItemError>> errors;
    std::mutex mutex;
    std::condition_variable all_done;
    std::size_t remaining;  // guarded by mutex
  };
  struct Task {
    Item item;
    std::size_t index;  // the number an ItemError names
    // submit(): the caller's future. Empty for run_all's tasks: a default promise would allocate a
    // shared state and, destroyed unset, build a broken_promise exception, per item.
    std::optional<std::promise<Result>> promise;
    Group* group = nullptr;  // run_all(): where the outcome goes instead (outlives the task)
  };
  struct Queue {
    std::deque<Task> tasks;
    std::condition_variable ready;  // signalled when tasks arrive or the scheduler stops
  };
  // What Dynamic knows of a worker's speed and state (guarded by mutex_).
  struct Pace {
    double seconds_per_item = 0.0;  // moving average over its runs; 0: not measured yet
    bool busy = false;              // inside a batch taken at `started`, expected to last `expected` s
    std::chrono::steady_clock::time_point started{};
    double expected = 0.0;
    bool waiting = false;       // blocked on its condition variable
    bool start_failed = false;  // fails items at once: never counted on, never holds items back
  };
  // Dynamic's choice for a free worker: how many of the queued items to take (0: leave them to `better`,
  // and look again at `recheck`).
  struct Decision {
    std::size_t take = 0;
    std::size_t better = 0;
    std::chrono::steady_clock::time_point recheck{};
  };
  // A call of `run`: its results, or the reason it failed.
  struct Attempt {
    std::vector<Result> results;
    std::string error;  // empty when `run` returned
    double seconds = 0.0;
  };

  Queue& queue_of_worker(std::size_t worker) { return *queues_[policy_ == Policy::Static ? worker : 0]; }
  // Caller holds mutex_. Returns the queue the task went to.
  Queue& enqueue_locked(Task task, std::size_t position);
  // Dynamic, caller holds mutex_: what `worker` should take of `queued` items now.
  Decision decide(std::size_t worker, std::chrono::steady_clock::time_point now, std::size_t queued) const;
  // Dynamic, caller holds mutex_: the makespan (seconds from now) of `items` spread over `others` (worker,
  // seconds until free) by earliest finish; `first` gets the worker that takes the first chunk.
  double makespan(std::vector<std::pair<std::size_t, double>> others, std::size_t items, std::size_t* first) const;
  // Dynamic: blocks until `worker` should take items (returns how many) or the scheduler stops (0).
  std::size_t wait_for_items(std::unique_lock<std::mutex>& lock, std::size_t worker);
  // Dynamic, caller holds mutex_: the waiting worker with the best known pace (unmeasured first), other
  // than `except`; workers_.size() when none waits. The caller notifies it after unlocking, so that it
  // does not wake only to block on the mutex still held.
  std::size_t best_waiting(std::size_t except) const;
  void learn(std::size_t worker, double seconds, std::size_t items);
  void worker_loop(std::size_t worker);
  // Both return the seconds spent inside `run` (retries included): what the worker's pace is learnt from.
  double execute(std::size_t worker, std::vector<Task>& tasks, std::vector<Item>& batch);
  double execute_one(std::size_t worker, std::vector<Item>& single, Task& task);
  Attempt attempt(std::size_t worker, std::vector<Item>& batch);
  void record(std::size_t worker, std::size_t batches, std::size_t items, std::size_t failures, double seconds);
  void fail(std::size_t worker, Task& task, const std::string& cause);
  static void succeed(Task& task, Result result);
  static void complete_in_group(Task& task, std::optional<Result> result, std::optional<ItemError> error);
  void shut_down() noexcept;

  const std::vector<Slot> workers_;
  const Policy policy_;

  std::mutex mutex_;
  std::vector<std::unique_ptr<Queue>> queues_;  // one per worker (Static) or one shared (Dynamic)
  bool stopping_ = false;
  std::size_t next_submit_index_ = 0;
  std::vector<Pace> pace_;                                      // Dynamic: per worker
  std::vector<std::unique_ptr<std::condition_variable>> wake_;  // Dynamic: per worker

  mutable std::mutex stats_mutex_;
  std::vector<WorkerStats> stats_;

  std::vector<std::jthread> threads_;  // last: started after everything they use exists
};

// ---------------------------------------------------------------------------------------------------

template <class Item, class Result>
Scheduler<Item, Result>::Scheduler(std::vector<Slot> workers, Policy policy)
    : workers_(std::move(workers)), policy_(policy) {
  detail::require_workers(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    detail::require_valid_slot(i, workers_[i].name, static_cast<bool>(workers_[i].run), workers_[i].max_batch);
  }

  const std::size_t queue_count = policy_ == Policy::Static ? workers_.size() : 1;
  queues_.reserve(queue_count);
  for (std::size_t i = 0; i < queue_count; ++i) queues_.push_back(std::make_unique<Queue>());
  pace_.resize(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) wake_.push_back(std::make_unique<std::condition_variable>());
  stats_.reserve(workers_.size());
  for (const Slot& slot : workers_) stats_.push_back(WorkerStats{.name = slot.name});

  threads_.reserve(workers_.size());
  try {
    for (std::size_t w = 0; w < workers_.size(); ++w) threads_.emplace_back([this, w] { worker_loop(w); });
  } catch (...) {
    // A thread failed to start: the started ones must be told to stop before they are joined.
    shut_down();
    throw;
  }
}

template <class Item, class Result>
Scheduler<Item, Result>::~Scheduler() {
  shut_down();
}

template <class Item, class Result>
void Scheduler<Item, Result>::shut_down() noexcept {
  std::vector<Task> cancelled;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& queue : queues_) {
      for (Task& task : queue->tasks) cancelled.push_back(std::move(task));
      queue->tasks.clear();
    }
  }
  for (auto& queue : queues_) queue->ready.notify_all();
  for (auto& wake : wake_) wake->notify_all();
  // Outside the lock: setting a promise can run continuation code of whoever waits on it.
  for (Task& task : cancelled) {
    if (task.group != nullptr) {
      complete_in_group(task, std::nullopt,
                        ItemError(task.index, std::string(), std::string(detail::cancelled_message)));
    } else {
      task.promise->set_exception(std::make_exception_ptr(Error(std::string(detail::cancelled_message))));
    }
  }
  // Workers finish the batch they hold, see stopping_ and return.
  for (std::jthread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

template <class Item, class Result>
auto Scheduler<Item, Result>::enqueue_locked(Task task, std::size_t position) -> Queue& {
  Queue& queue = *queues_[policy_ == Policy::Static ? position % workers_.size() : 0];
  queue.tasks.push_back(std::move(task));
  return queue;
}

template <class Item, class Result>
std::future<Result> Scheduler<Item, Result>::submit(Item item) {
  std::promise<Result> promise;
  std::future<Result> future = promise.get_future();
  std::unique_lock lock(mutex_);
  const std::size_t index = next_submit_index_++;
  if (stopping_) {
    lock.unlock();
    promise.set_exception(std::make_exception_ptr(Error(std::string(detail::cancelled_message))));
    return future;
  }
  Queue& queue = enqueue_locked(Task{std::move(item), index, std::move(promise)}, index);
  if (policy_ == Policy::Dynamic) {
    const std::size_t wake = best_waiting(workers_.size());
    lock.unlock();
    if (wake < workers_.size()) wake_[wake]->notify_one();
    return future;
  }
  lock.unlock();
  queue.ready.notify_one();
  return future;
}

template <class Item, class Result>
std::vector<Result> Scheduler<Item, Result>::run_all(std::vector<Item> items) {
  const std::size_t count = items.size();
  Group group(count);
  bool stopped = false;
  {
    // One critical section, so this call's items sit together in the queues (full batches) and a
    // concurrent submit cannot interleave with them.
    std::lock_guard lock(mutex_);
    stopped = stopping_;
    if (!stopped) {
      for (std::size_t i = 0; i < count; ++i) enqueue_locked(Task{std::move(items[i]), i, std::nullopt, &group}, i);
    }
  }
  if (stopped) {
    for (std::size_t i = 0; i < count; ++i) {
      group.errors[i].emplace(i, std::string(), std::string(detail::cancelled_message));
    }
  } else {
    if (policy_ == Policy::Static) {
      for (auto& queue : queues_) queue->ready.notify_all();
    } else {
      for (auto& wake : wake_) wake->notify_one();  // every waiting worker decides for itself
    }
    // Wait for every item, even after a failure, so no item is still running when this returns.
    std::unique_lock lock(group.mutex);
    group.all_done.wait(lock, [&] { return group.remaining == 0; });
  }

  std::vector<ItemError> failures;
  for (auto& error : group.errors) {
    if (error) failures.push_back(std::move(*error));
  }
  if (!failures.empty()) throw RunError(count, std::move(failures));
  std::vector<Result> results;
  results.reserve(count);
  for (auto& result : group.results) results.push_back(std::move(*result));
  return results;
}

template <class Item, class Result>
void Scheduler<Item, Result>::worker_loop(std::size_t worker) {
  const Slot& slot = workers_[worker];
  std::string start_failure;
  if (slot.on_start) {
    try {
      slot.on_start();
    } catch (...) {
      // The worker cannot be trusted to run items; it still takes its share so that no item of a static
      // queue waits forever, and fails each with the reason.
      start_failure = "on_start failed: " + detail::describe(std::current_exception());
    }
  }
  Queue& queue = queue_of_worker(worker);
  // Reused across batches: no allocation per item on the hot path.
  std::vector<Task> tasks;
  std::vector<Item> batch;
  tasks.reserve(slot.max_batch);
  batch.reserve(slot.max_batch);
  double ran_seconds = 0.0;  // the last batch, learnt under the lock taken for the next one
  if (policy_ == Policy::Dynamic && !start_failure.empty()) {
    const std::lock_guard lock(mutex_);
    pace_[worker].start_failed = true;
  }
  for (;;) {
    tasks.clear();
    std::size_t wake = workers_.size();
    {
      std::unique_lock lock(mutex_);
      std::size_t take = 0;
      if (policy_ == Policy::Dynamic) {
        Pace& pace = pace_[worker];
        if (pace.busy && !pace.start_failed) learn(worker, ran_seconds, batch.size());
        pace.busy = false;
        take = wait_for_items(lock, worker);
        if (take == 0) return;  // stopping: shut_down() cancels what is still queued
        pace.busy = true;
        pace.started = std::chrono::steady_clock::now();
        pace.expected = pace.seconds_per_item * static_cast<double>(take);
      } else {
        queue.ready.wait(lock, [&] { return stopping_ || !queue.tasks.empty(); });
        if (stopping_) return;  // shut_down() cancels what is still queued
        // Take what is already queued, up to max_batch; never wait for more to fill a batch.
        take = std::min(slot.max_batch, queue.tasks.size());
      }
      for (std::size_t i = 0; i < take; ++i) {
        tasks.push_back(std::move(queue.tasks.front()));
        queue.tasks.pop_front();
      }
      // A shared queue with items left: make sure a waiting worker looks at them.
      if (policy_ == Policy::Dynamic && !queue.tasks.empty()) wake = best_waiting(worker);
    }
    if (wake < workers_.size()) wake_[wake]->notify_one();

    if (start_failure.empty()) {
      ran_seconds = execute(worker, tasks, batch);
    } else {
      for (Task& task : tasks) {
        record(worker, 0, 1, 1, 0.0);
        fail(worker, task, start_failure);
      }
    }
  }
}

template <class Item, class Result>
std::size_t Scheduler<Item, Result>::wait_for_items(std::unique_lock<std::mutex>& lock, std::size_t worker) {
  Queue& queue = *queues_.front();
  Pace& pace = pace_[worker];
  std::condition_variable& wake = *wake_[worker];
  for (;;) {
    if (stopping_) return 0;
    if (queue.tasks.empty()) {
      pace.waiting = true;
      wake.wait(lock);
      pace.waiting = false;
      continue;
    }
    const Decision decision = decide(worker, std::chrono::steady_clock::now(), queue.tasks.size());
    if (decision.take > 0) return decision.take;
    // Left to a faster worker: make sure it is awake, and look again when the situation may have
    // changed (a busy worker is due to finish) in case the estimates were wrong.
    if (pace_[decision.better].waiting) wake_[decision.better]->notify_one();
    pace.waiting = true;
    wake.wait_until(lock, decision.recheck);
    pace.waiting = false;
  }
}

template <class Item, class Result>
std::size_t Scheduler<Item, Result>::best_waiting(std::size_t except) const {
  std::size_t best = workers_.size();
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    if (w == except || !pace_[w].waiting) continue;
    // Unmeasured workers first (they must run to be measured), then the fastest.
    const auto key = [&](std::size_t v) { return pace_[v].seconds_per_item; };
    if (best == workers_.size() || key(w) < key(best)) best = w;
  }
  return best;
}

template <class Item, class Result>
void Scheduler<Item, Result>::learn(std::size_t worker, double seconds, std::size_t items) {
  if (items == 0) return;
  // An exponential moving average: recent runs count most (clocks and caches warm up, a GPU settles),
  // one outlier does not decide. 0.3 forgets a sample's weight to 3% within ten runs.
  constexpr double weight = 0.3;
  const double sample = seconds / static_cast<double>(items);
  double& average = pace_[worker].seconds_per_item;
  if (average <= 0.0 || sample < average / 4.0) {
    // First run, or a run four times faster than the average: a warm-up run is behind (a GPU's first
    // run loads kernels and tunes convolutions, seconds long). Averaging it away would take many runs,
    // during which the worker would decline items it is in fact fast at.
    average = sample;
  } else {
    average = (1.0 - weight) * average + weight * sample;
  }
  if (average <= 0.0) average = 1e-9;  // measured, however fast
}

template <class Item, class Result>
double Scheduler<Item, Result>::makespan(std::vector<std::pair<std::size_t, double>> others, std::size_t items,
                                         std::size_t* first) const {
  double end = 0.0;
  bool first_chunk = true;
  while (items > 0) {
    // The next chunk goes to whoever would finish it first, as the free workers would pull it.
    std::size_t pick = 0;
    double pick_end = 0.0;
    for (std::size_t i = 0; i < others.size(); ++i) {
      const std::size_t v = others[i].first;
      const auto chunk = static_cast<double>(std::min(workers_[v].max_batch, items));
      const double finish = others[i].second + pace_[v].seconds_per_item * chunk;
      if (i == 0 || finish < pick_end) {
        pick = i;
        pick_end = finish;
      }
    }
    const std::size_t v = others[pick].first;
    items -= std::min(workers_[v].max_batch, items);
    others[pick].second = pick_end;
    end = std::max(end, pick_end);
    if (first_chunk && first != nullptr) *first = v;
    first_chunk = false;
  }
  return end;
}

template <class Item, class Result>
auto Scheduler<Item, Result>::decide(std::size_t worker, std::chrono::steady_clock::time_point now,
                                     std::size_t queued) const -> Decision {
  const Pace& mine = pace_[worker];
  Decision decision{.take = std::min(workers_[worker].max_batch, queued), .better = worker, .recheck = now};
  // Unmeasured or failed workers take what they can: the first must run to be measured, the second
  // fails its items at once rather than holding them.
  if (mine.start_failed || mine.seconds_per_item <= 0.0) return decision;

  // The others that can be counted on (measured, started fine), and the seconds until each is free. A
  // worker past its expected finish is assumed to need as long again as it has run so far.
  const auto counted = [&](std::size_t v) {
    return v != worker && !pace_[v].start_failed && pace_[v].seconds_per_item > 0.0;
  };
  const auto free_in = [&](const Pace& p) {
    if (!p.busy) return 0.0;
    const double elapsed = std::chrono::duration<double>(now - p.started).count();
    return elapsed < p.expected ? p.expected - elapsed : elapsed;
  };
  double rate = 0.0;
  double soonest_busy = -1.0;
  double earliest_other = -1.0;  // the soonest any other would finish its first chunk of the queue
  for (std::size_t v = 0; v < pace_.size(); ++v) {
    if (!counted(v)) continue;
    const Pace& p = pace_[v];
    const double free = free_in(p);
    if (p.busy) soonest_busy = soonest_busy < 0.0 ? free : std::min(soonest_busy, free);
    rate += 1.0 / p.seconds_per_item;
    const double first_chunk = free + p.seconds_per_item * static_cast<double>(std::min(workers_[v].max_batch, queued));
    earliest_other = earliest_other < 0.0 ? first_chunk : std::min(earliest_other, first_chunk);
  }
  if (rate == 0.0) return decision;  // no other to count on

  const double mine_done = mine.seconds_per_item * static_cast<double>(decision.take);
  // The one that would finish first takes, as a greedy pull would; this also guarantees that among
  // free workers someone always takes.
  if (mine_done <= earliest_other) return decision;
  // Cheap test first: even sharing the rest perfectly, the others stay busy past this batch's end,
  // so taking it cannot make the run longer.
  const double rest = static_cast<double>(queued - decision.take);
  if (rest / rate >= mine_done) return decision;
  // Near the tail (the only place that needs the list, so the common path above allocates nothing):
  // compare the makespan with and without this worker's batch.
  std::vector<std::pair<std::size_t, double>> others;
  for (std::size_t v = 0; v < pace_.size(); ++v) {
    if (counted(v)) others.emplace_back(v, free_in(pace_[v]));
  }
  std::size_t better = worker;
  const double without = makespan(others, queued, &better);
  const double with = std::max(mine_done, makespan(others, queued - decision.take, nullptr));
  if (with <= without) return decision;
  // Look again when a busy worker is due (1 ms when none is busy), at least 50 us on.
  const double wait = std::max(50e-6, soonest_busy < 0.0 ? 1e-3 : soonest_busy);
  return {.take = 0,
          .better = better,
          .recheck = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(wait))};
}

template <class Item, class Result>
auto Scheduler<Item, Result>::attempt(std::size_t worker, std::vector<Item>& batch) -> Attempt {
  Attempt result;
  const auto start = std::chrono::steady_clock::now();
  try {
    result.results = workers_[worker].run(batch);
  } catch (...) {
    result.error = detail::describe(std::current_exception());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (result.error.empty() && result.results.size() != batch.size()) {
    result.error = "worker returned " + std::to_string(result.results.size()) + " results for " +
                   (batch.size() == 1 ? std::string("1 item") : std::to_string(batch.size()) + " items");
  }
  if (!result.error.empty()) result.results.clear();
  return result;
}

template <class Item, class Result>
double Scheduler<Item, Result>::execute(std::size_t worker, std::vector<Task>& tasks, std::vector<Item>& batch) {
  batch.clear();
  for (Task& task : tasks) batch.push_back(std::move(task.item));

  if (batch.size() == 1) return execute_one(worker, batch, tasks[0]);
  Attempt whole = attempt(worker, batch);
  if (whole.error.empty()) {
    // Stats before promises: whoever waits on the last future then sees complete stats.
    record(worker, 1, batch.size(), 0, whole.seconds);
    for (std::size_t i = 0; i < tasks.size(); ++i) succeed(tasks[i], std::move(whole.results[i]));
    return whole.seconds;
  }
  // The batch failed as a whole: retry item by item so one bad item fails alone.
  record(worker, 1, 0, 0, whole.seconds);
  double seconds = whole.seconds;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    std::vector<Item> single;
    single.push_back(std::move(batch[i]));
    seconds += execute_one(worker, single, tasks[i]);
  }
  return seconds;
}

template <class Item, class Result>
double Scheduler<Item, Result>::execute_one(std::size_t worker, std::vector<Item>& single, Task& task) {
  Attempt one = attempt(worker, single);
  if (one.error.empty()) {
    record(worker, 1, 1, 0, one.seconds);
    succeed(task, std::move(one.results.front()));
  } else {
    record(worker, 1, 1, 1, one.seconds);
    fail(worker, task, one.error);
  }
  return one.seconds;
}

template <class Item, class Result>
void Scheduler<Item, Result>::succeed(Task& task, Result result) {
  if (task.group != nullptr) {
    complete_in_group(task, std::move(result), std::nullopt);
  } else {
    task.promise->set_value(std::move(result));
  }
}

template <class Item, class Result>
void Scheduler<Item, Result>::fail(std::size_t worker, Task& task, const std::string& cause) {
  ItemError error(task.index, workers_[worker].name, cause);
  if (task.group != nullptr) {
    complete_in_group(task, std::nullopt, std::move(error));
  } else {
    task.promise->set_exception(std::make_exception_ptr(std::move(error)));
  }
}

template <class Item, class Result>
void Scheduler<Item, Result>::complete_in_group(Task& task, std::optional<Result> result,
                                                std::optional<ItemError> error) {
  Group& group = *task.group;
  // Each slot is written by exactly one worker; the mutex then publishes it to the waiting caller.
  group.results[task.index] = std::move(result);
  group.errors[task.index] = std::move(error);
  std::lock_guard lock(group.mutex);
  if (--group.remaining == 0) group.all_done.notify_one();
}

template <class Item, class Result>
void Scheduler<Item, Result>::record(std::size_t worker, std::size_t batches, std::size_t items, std::size_t failures,
                                     double seconds) {
  std::lock_guard lock(stats_mutex_);
  WorkerStats& stats = stats_[worker];
  stats.batches += batches;
  stats.items += items;
  stats.failures += failures;
  stats.busy_seconds += seconds;
}

template <class Item, class Result>
std::vector<WorkerStats> Scheduler<Item, Result>::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

template <class Item, class Result>
void Scheduler<Item, Result>::reset_stats() {
  std::lock_guard lock(stats_mutex_);
  for (WorkerStats& stats : stats_) stats = WorkerStats{.name = stats.name};
}

}  // namespace onnxpool
