#pragma once
// The dynamic policy: one shared queue; a free worker takes the next items (up to its max_batch of those
// already queued, never waiting for more), so fast workers take more. At the tail it may decline them:
// its TailPlanner, consulted under the policy's lock, says when the others would finish the queue
// sooner without it. A declining worker wakes the one it leaves the items to and looks again at the
// planner's recheck time, in case the estimates were wrong.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

#include "onnxpool/scheduling/batch_learner.hpp"
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
  // `hosts`, when given (one per worker): whether a caller may run as that worker's guest. `learn`, when
  // given: whether the worker learns its batch size under its max_batch (batch_learner.hpp), and
  // `warmups` its warm-up runs at a new size; workers of one width learn together. `idle_polls`, when
  // given: how long the worker polls for items after a batch before it sleeps (WorkerSlot::idle_poll).
  explicit DynamicQueue(std::vector<std::size_t> max_batches, std::vector<std::size_t> widths = {},
                        std::size_t cores = 0, std::vector<bool> hosts = {}, std::vector<bool> learn = {},
                        std::vector<std::size_t> warmups = {}, std::vector<std::chrono::microseconds> idle_polls = {})
      : Base(max_batches.size()),
        batches_(max_batches, std::move(learn), cores > 0 ? widths : std::vector<std::size_t>{}, std::move(warmups)),
        planner_(std::move(max_batches), cores > 0 ? widths : std::vector<std::size_t>{}),
        widths_(cores > 0 ? std::move(widths) : std::vector<std::size_t>(this->worker_count(), 0), cores),
        hosts_(hosts.size() == this->worker_count() ? std::move(hosts) : std::vector<bool>(this->worker_count())),
        guest_(this->worker_count(), false),
        idle_polls_(idle_polls.size() == this->worker_count()
                        ? std::move(idle_polls)
                        : std::vector<std::chrono::microseconds>(this->worker_count())) {}

 private:
  void enqueue(Task&& task, std::size_t /*position*/) override { queue_.push_back(std::move(task)); }
  [[nodiscard]] std::size_t worker_to_wake(std::size_t /*position*/) override {
    return wake_for_queued_except(this->worker_count());
  }
  std::size_t take(typename Base::Lock& lock, std::size_t worker, const typename Base::LastBatch& last,
                   std::vector<Task>& tasks) override {
    // A caller may hold this worker as its guest already (before this thread's first take): the
    // batch in the planner is the guest's, which end_guest ends, not this thread's.
    if (!guest_[worker]) end_batch(worker, last);
    // A worker that polls when idle does so for idle_poll after its batch, then sleeps.
    auto poll_until = idle_polls_[worker].count() > 0 ? std::chrono::steady_clock::now() + idle_polls_[worker]
                                                      : std::chrono::steady_clock::time_point{};
    for (;;) {
      // Stopping: the items still queued are cancelled by whoever called stop().
      if (this->stopping()) return this->worker_count();
      if (queue_.empty() || guest_[worker]) {
        // Nothing queued, or a caller is running a batch as this worker's guest: its end wakes whoever
        // should look. A worker that polls when idle does so only while the others are idle too (the
        // trickle it is for), never beside running batches whose cores it would share; marked waiting
        // meanwhile, so that the planners count it as idle.
        // One that sleeps when idle (no idle_poll, or it gave way) looks no further.
        const bool polls = poll_until != std::chrono::steady_clock::time_point{};
        if (polls && !guest_[worker] && std::chrono::steady_clock::now() < poll_until && !others_busy(worker)) {
          wait_marked(worker, [&](std::condition_variable&) {
            if (this->poll_for_change(lock, poll_until)) poll_until = {};  // gave way: sleeps from now on
          });
        } else {
          wait_marked(worker, [&](std::condition_variable& cv) { cv.wait(lock); });
        }
        continue;
      }
      // The one clock read of a take: the decision's time is also the batch's start.
      const auto now = TailPlanner::Clock::now();
      size_batch(worker);
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
        // Items left: make sure a waiting worker looks at them.
        return wake_for_queued_except(worker);
      }
      // Left to a faster worker: make sure it is awake, and look again when the situation may have
      // changed (a busy worker is due to finish).
      if (planner_.pace(decision.better).waiting) this->worker_cv(decision.better).notify_one();
      wait_marked(worker, [&](std::condition_variable& cv) { cv.wait_until(lock, decision.recheck); });
    }
  }
  std::size_t take_as_guest(std::vector<Task>& tasks) override {
    if (queue_.empty()) return this->worker_count();
    const auto now = TailPlanner::Clock::now();
    for (std::size_t w = 0; w < this->worker_count(); ++w) {
      const TailPlanner::Pace& pace = planner_.pace(w);
      if (!hosts_[w] || guest_[w] || pace.busy || pace.start_failed) continue;
      size_batch(w, /*guest=*/true);
      if (!widths_.decide(w, planner_, now, queue_.size(), /*guest=*/true).take) continue;
      const TailPlanner::Decision decision = planner_.decide(w, now, queue_.size());
      if (decision.take == 0) continue;
      planner_.begin_batch(w, now, decision.take);
      guest_[w] = true;
      Base::move_front(queue_, decision.take, tasks);
      return w;
    }
    return this->worker_count();
  }
  void end_guest(std::size_t worker, const typename Base::LastBatch& last) override {
    end_batch(worker, last);
    guest_[worker] = false;
  }
  std::size_t wake_for_queued() override { return wake_for_queued_except(this->worker_count()); }
  bool woke_after_push_all() override {
    // With widths, only those the WidthPlanner names (a woken worker that may not run takes a core from
    // one that does); without, every worker looks, as before.
    if (!widths_.active() && !queue_.empty()) return true;
    wake_by_width(queue_.size());
    return false;
  }
  void drain(std::vector<Task>& out) override {
    for (Task& task : queue_) out.push_back(std::move(task));
    queue_.clear();
  }
  void start_failed(std::size_t worker) override { planner_.mark_start_failed(worker); }

  // Whoever should look at what is queued, other than `except`: with widths, those the WidthPlanner
  // names, woken here under the lock (worker_count() returned); without, the best waiting worker, for
  // the caller to wake after the lock.
  std::size_t wake_for_queued_except(std::size_t except) {
    if (queue_.empty()) return this->worker_count();
    if (widths_.active()) {
      wake_by_width(queue_.size());
      return this->worker_count();
    }
    return planner_.best_waiting(except);
  }

  [[nodiscard]] bool others_busy(std::size_t worker) const {
    for (std::size_t w = 0; w < this->worker_count(); ++w) {
      if (w != worker && planner_.pace(w).busy) return true;
    }
    return false;
  }

  // The worker's last batch is over: its pace and, for a worker that learns its batch size, that size's.
  void end_batch(std::size_t worker, const typename Base::LastBatch& last) {
    const TailPlanner::Pace& pace = planner_.pace(worker);
    if (pace.busy && !pace.start_failed) batches_.learn(worker, last.items, last.seconds);
    planner_.end_batch(worker, last.seconds, last.items);
  }
  // Before a decision for `worker`: the batch size it would take now, as the planners' max_batch. A
  // guest takes only a job it keeps whole (the WidthPlanner's grain): one run for all, once stacking pays.
  void size_batch(std::size_t worker, bool guest = false) {
    if (!batches_.learning(worker)) return;
    planner_.set_max_batch(worker, batches_.size(worker, queue_.size(), planner_.peer_count(worker), guest));
  }

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
  BatchLearner batches_;
  TailPlanner planner_;
  WidthPlanner widths_;
  std::vector<bool> hosts_;                            // a caller may be this worker's guest
  std::vector<bool> guest_;                            // a caller is running a batch as this worker's guest
  std::vector<std::chrono::microseconds> idle_polls_;  // WorkerSlot::idle_poll
};

}  // namespace onnxpool::detail
