#pragma once
// The dynamic policy: one shared queue; a free worker takes the next items (up to its max_batch of those
// already queued, never waiting for more), so fast workers take more. At the tail it may decline them:
// its TailPlanner, consulted under the policy's lock, says when the others would finish the queue
// sooner without it. A declining worker wakes the one it leaves the items to and looks again at the
// planner's recheck time, in case the estimates were wrong.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

#include "onnxpool/scheduling/queue_policy.hpp"
#include "onnxpool/scheduling/tail_planner.hpp"
#include "onnxpool/scheduling/width_planner.hpp"

namespace onnxpool::detail {

template <class Task>
class DynamicQueue final : public QueuePolicy<Task> {
  using Base = QueuePolicy<Task>;

 public:
  // One worker per entry: the most tasks it takes at once; and, when `cores` > 0, its width (cores it keeps
  // busy while running, 0: outside the budget) with the budget the widths share.
  explicit DynamicQueue(std::vector<std::size_t> max_batches, std::vector<std::size_t> widths = {},
                        std::size_t cores = 0)
      : Base(max_batches.size()),
        planner_(std::move(max_batches), cores > 0 ? widths : std::vector<std::size_t>{}),
        widths_(cores > 0 ? std::move(widths) : std::vector<std::size_t>(this->worker_count(), 0), cores) {}

 private:
  void enqueue(Task&& task, std::size_t /*position*/) override { queue_.push_back(std::move(task)); }
  [[nodiscard]] std::size_t worker_to_wake(std::size_t /*position*/) override {
    if (widths_.active()) {
      wake_by_width(queue_.size());
      return this->worker_count();
    }
    return planner_.best_waiting(this->worker_count());
  }
  std::size_t take(typename Base::Lock& lock, std::size_t worker, const typename Base::LastBatch& last,
                   std::vector<Task>& tasks) override {
    planner_.end_batch(worker, last.seconds, last.items);
    for (;;) {
      // Stopping: the items still queued are cancelled by whoever called stop().
      if (this->stopping()) return this->worker_count();
      if (queue_.empty()) {
        wait_marked(worker, [&](std::condition_variable& cv) { cv.wait(lock); });
        continue;
      }
      // The one clock read of a take: the decision's time is also the batch's start.
      const auto now = TailPlanner::Clock::now();
      const WidthPlanner::Verdict fits = widths_.decide(worker, planner_, now, queue_.size());
      if (!fits.take) {
        // Not this width now: whoever should look is woken, and this one looks again when cores are due.
        wake_by_width(queue_.size());
        wait_marked(worker, [&](std::condition_variable& cv) { cv.wait_until(lock, fits.recheck); });
        continue;
      }
      const TailPlanner::Decision decision = planner_.decide(worker, now, queue_.size());
      if (decision.take > 0) {
        planner_.begin_batch(worker, now, decision.take);
        Base::move_front(queue_, decision.take, tasks);
        if (queue_.empty()) return this->worker_count();
        if (widths_.active()) {
          wake_by_width(queue_.size());
          return this->worker_count();
        }
        // Items left: make sure a waiting worker looks at them.
        return planner_.best_waiting(worker);
      }
      // Left to a faster worker: make sure it is awake, and look again when the situation may have
      // changed (a busy worker is due to finish).
      if (planner_.pace(decision.better).waiting) this->worker_cv(decision.better).notify_one();
      wait_marked(worker, [&](std::condition_variable& cv) { cv.wait_until(lock, decision.recheck); });
    }
  }
  void drain(std::vector<Task>& out) override {
    for (Task& task : queue_) out.push_back(std::move(task));
    queue_.clear();
  }
  void start_failed(std::size_t worker) override { planner_.mark_start_failed(worker); }

  // Wakes, under the lock, the waiting workers the WidthPlanner says should look at `queued` items.
  void wake_by_width(std::size_t queued) {
    widths_.for_each_to_wake(planner_, queued, [&](std::size_t w) { this->worker_cv(w).notify_one(); });
  }

  // Sleeps on the worker's condition variable, marked waiting meanwhile so that others know whom to wake.
  template <class Sleep>
  void wait_marked(std::size_t worker, Sleep&& sleep) {
    planner_.set_waiting(worker, true);
    sleep(this->worker_cv(worker));
    planner_.set_waiting(worker, false);
  }

  std::deque<Task> queue_;
  TailPlanner planner_;
  WidthPlanner widths_;
};

}  // namespace onnxpool::detail
