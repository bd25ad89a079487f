#pragma once
// Scheduler: runs items on a fixed set of workers, each on its own thread, and hands back one future per
// item. It knows nothing of ONNX Runtime: a worker is "something that runs a batch of items", so the
// scheduling (static split, dynamic pull, batching, failures, shutdown) is tested with fake workers of
// chosen speeds under ThreadSanitizer.
//
// Two policies, each a queue policy object (queue_policy.hpp) that the worker loop runs without knowing
// which:
//  - Static (static_queues.hpp): item k goes to worker (k mod W)'s own queue, the split fixed up front
//    (the tutorial's imgs[i::W]); the slowest worker bounds the wall time.
//  - Dynamic (dynamic_queue.hpp): one shared queue; a free worker pulls the next items (up to its
//    max_batch of those already queued, never waiting for more), so fast workers take more. At the tail
//    it looks ahead (tail_planner.hpp): each worker's seconds per item are learnt from its runs, and a
//    free worker declines the queue's items when the others would finish all of them sooner without it
//    (a CPU worker does not take the last item a GPU would have done in a fraction of the time, which
//    would make the whole run wait for the CPU).
//    Given a budget of cores, workers of different widths share it (width_planner.hpp): one runs only
//    while its width fits in the cores left free, and the queue's depth picks the width (a lone item on
//    a worker as wide as the machine, a deep queue on the narrow ones).
//
// Failures stay with their item (batch_runner.hpp): a batch that throws (or returns the wrong number of
// results) is retried item by item on the same worker, and a failed item's future throws ItemError
// naming item and worker. A worker whose on_start throws still takes items (so no static queue waits
// forever) and fails each with "on_start failed: <cause>". `run` may call submit() but must not call
// run_all() on its own scheduler (it would wait for items queued behind itself).
//
// Locking: the queue policy's one mutex guards every queue, the stop flag, the submission counter and the
// dynamic policy's paces (its TailPlanner, which has no lock of its own). Each worker sleeps on its own
// condition variable: under Static its queue's, so a submit wakes only the worker it is for; under
// Dynamic so that a worker declining items can wake the one it leaves them to. Pushes and takes notify
// after releasing the mutex, so the woken worker does not block on it (a declining worker excepted: it
// wakes the other just before it sleeps). A run_all call's items complete into its Group, under the
// group's own mutex. Statistics have their own mutex so reading them never contends with the queues. No
// lock is held while `run` or on_start runs.
//
// Guests: a run_all() caller does not only wait. Under the dynamic policy, for slots marked
// caller_may_run, it takes batches as the guest of an idle worker (the same decision that worker's own
// take would make, in the push's critical section before any worker is woken), runs them on its own
// thread with that worker's `run`, and stops when the policy gives it nothing more; that worker's thread
// takes nothing meanwhile. A lone item then runs with no thread hand-off at all.
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"
#include "onnxpool/scheduling/batch_runner.hpp"
#include "onnxpool/scheduling/dynamic_queue.hpp"
#include "onnxpool/scheduling/item_error.hpp"
#include "onnxpool/scheduling/policy.hpp"
#include "onnxpool/scheduling/queue_policy.hpp"
#include "onnxpool/scheduling/static_queues.hpp"
#include "onnxpool/scheduling/stats_recorder.hpp"
#include "onnxpool/scheduling/task.hpp"
#include "onnxpool/scheduling/worker_slot.hpp"

namespace onnxpool {

namespace detail {
// The one place the Policy value is looked at: it picks the queue policy object.
template <class Task>
std::unique_ptr<QueuePolicy<Task>> make_queue_policy(Policy policy, std::vector<std::size_t> max_batches,
                                                     std::vector<std::size_t> widths, std::size_t cores,
                                                     std::vector<bool> hosts, std::vector<bool> learn,
                                                     std::vector<std::size_t> warmups,
                                                     std::vector<std::chrono::microseconds> idle_polls) {
  if (policy == Policy::Static) return std::make_unique<StaticQueues<Task>>(std::move(max_batches));
  return std::make_unique<DynamicQueue<Task>>(std::move(max_batches), std::move(widths), cores, std::move(hosts),
                                              std::move(learn), std::move(warmups), std::move(idle_polls));
}
}  // namespace detail

template <class Item, class Result>
class Scheduler {
 public:
  using Slot = WorkerSlot<Item, Result>;

  // Starts one thread per worker. `cores`, when > 0, is the budget the slots' widths share (dynamic
  // policy; the static one ignores it). Throws Error if `workers` is empty, a slot has no run function,
  // a max_batch of 0 or a width over the budget.
  Scheduler(std::vector<Slot> workers, Policy policy, std::size_t cores = 0);
  // Stops taking items; the items not yet started fail with Error("cancelled: the scheduler was shut
  // down"), the batches in flight finish, the threads are joined. Every future is left set.
  ~Scheduler() { shut_down(); }
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

  [[nodiscard]] std::vector<WorkerStats> stats() const { return stats_.snapshot(); }  // in worker order
  void reset_stats() { stats_.reset(); }
  [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }
  [[nodiscard]] Policy policy() const noexcept { return policy_; }

 private:
  using Task = detail::Task<Item, Result>;
  using Queues = detail::QueuePolicy<Task>;

  // Every slot's `field` (max_batch, name), in worker order.
  template <class Field>
  static std::vector<Field> slot_fields(const std::vector<Slot>& slots, Field Slot::*field);
  void worker_loop(std::size_t worker);
  void shut_down() noexcept;

  const std::vector<Slot> workers_;
  const Policy policy_;
  const std::unique_ptr<Queues> queues_;
  detail::StatsRecorder stats_;
  std::vector<std::jthread> threads_;  // last: started after everything they use exists
};

// ---------------------------------------------------------------------------------------------------

template <class Item, class Result>
Scheduler<Item, Result>::Scheduler(std::vector<Slot> workers, Policy policy, std::size_t cores)
    : workers_(std::move(workers)),
      policy_(policy),
      queues_(detail::make_queue_policy<Task>(
          policy, slot_fields(workers_, &Slot::max_batch), slot_fields(workers_, &Slot::width), cores,
          slot_fields(workers_, &Slot::caller_may_run), slot_fields(workers_, &Slot::learn_batch),
          slot_fields(workers_, &Slot::warmup_runs), slot_fields(workers_, &Slot::idle_poll))),
      stats_(slot_fields(workers_, &Slot::name)) {
  detail::require_valid_slots(workers_);
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
template <class Field>
auto Scheduler<Item, Result>::slot_fields(const std::vector<Slot>& slots, Field Slot::*field) -> std::vector<Field> {
  std::vector<Field> values;
  values.reserve(slots.size());
  for (const Slot& slot : slots) values.push_back(slot.*field);
  return values;
}

template <class Item, class Result>
void Scheduler<Item, Result>::shut_down() noexcept {
  // Outside the policy's lock: completing a task can run code of whoever waits on it.
  for (Task& task : queues_->stop()) task.cancel();
  // Workers finish the batch they hold, see the stop and return.
  for (std::jthread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

template <class Item, class Result>
std::future<Result> Scheduler<Item, Result>::submit(Item item) {
  std::promise<Result> promise;
  std::future<Result> future = promise.get_future();
  const bool queued = queues_->push([&](std::size_t index) {
    return Task{.item = std::move(item),
                .index = index,
                .promise = std::move(promise),
                .group = nullptr,
                .queued = std::chrono::steady_clock::now()};
  });
  if (!queued) promise.set_exception(std::make_exception_ptr(Error(std::string(detail::cancelled_message))));
  return future;
}

template <class Item, class Result>
std::vector<Result> Scheduler<Item, Result>::run_all(std::vector<Item> items) {
  detail::Group<Result> group(items.size());
  const auto now = std::chrono::steady_clock::now();  // one clock read for the call's items
  std::vector<Task> guest_tasks;
  std::size_t guest = workers_.size();
  const bool queued = queues_->push_all(
      items.size(),
      [&](std::size_t index) {
        return Task{
            .item = std::move(items[index]), .index = index, .promise = std::nullopt, .group = &group, .queued = now};
      },
      &guest_tasks, &guest);
  if (queued) {
    // The caller helps (dynamic policy, slots that allow it): it runs batches as the guest of an idle
    // worker while the policy lets it, instead of handing every item to a worker's thread and sleeping:
    // two thread wake-ups an item, tens of microseconds, which cost a 0.3 ms model's lone item a fifth of
    // a single session's rate.
    while (guest < workers_.size()) {
      detail::BatchRunner<Item, Result> runner(workers_[guest], guest, stats_);
      const double seconds = runner.run(guest_tasks);
      guest = queues_->guest_again(guest, {.items = guest_tasks.size(), .seconds = seconds}, guest_tasks);
    }
    // Wait for every item, even after a failure, so no item is still running when this returns.
    group.wait();
  } else {
    group.cancel_all();
  }
  return group.take_results();
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
      queues_->mark_start_failed(worker);
    }
  }
  detail::BatchRunner<Item, Result> runner(slot, worker, stats_);
  std::vector<Task> tasks;  // reused across batches: no allocation per item on the hot path
  tasks.reserve(slot.max_batch);
  typename Queues::LastBatch last;
  // next() returns false once the scheduler stops; shut_down() cancels what is still queued.
  while (queues_->next(worker, last, tasks)) {
    if (start_failure.empty()) {
      last = {.items = tasks.size(), .seconds = runner.run(tasks)};
    } else {
      runner.fail_all(tasks, start_failure);
    }
  }
}

}  // namespace onnxpool
