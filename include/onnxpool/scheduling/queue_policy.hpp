#pragma once
// A queue policy: where queued tasks wait and which of them a free worker takes next. The scheduler's
// worker loop runs whichever policy it was given without knowing which (as taskflow's executor runs a
// partitioner, and Triton's core keeps the queue and the choice of instance apart from running a batch):
// it asks next() for its tasks (blocking), runs them, and passes the batch's size and time into the next
// call.
//
// The base class owns what both policies share: the mutex that guards every queue, the stop flag, the
// submission counter and whatever the policy keeps (the dynamic policy's paces); one condition variable
// per worker, the one that worker sleeps on; and the producer side, which queues under the lock and
// notifies after releasing it so that a woken worker does not block on the mutex still held. A policy
// implements the hooks below, each called with the mutex held.
//
// `Task` only needs to be movable; the policy never looks inside it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace onnxpool::detail {

template <class Task>
class QueuePolicy {
 public:
  using Lock = std::unique_lock<std::mutex>;
  // A worker's last batch, learnt from under the lock its next take holds anyway. Zero items: none (the
  // first take).
  struct LastBatch {
    std::size_t items = 0;
    double seconds = 0.0;  // inside `run`, retries included
  };

  virtual ~QueuePolicy() = default;
  QueuePolicy(const QueuePolicy&) = delete;
  QueuePolicy& operator=(const QueuePolicy&) = delete;
  QueuePolicy(QueuePolicy&&) = delete;
  QueuePolicy& operator=(QueuePolicy&&) = delete;

  [[nodiscard]] std::size_t worker_count() const noexcept { return wake_.size(); }

  // Queues one task, made by `make(position)` under the lock from the running counter over all push()
  // calls (the static policy sends it to worker position mod W), and wakes the worker it is for. After
  // stop() it returns false without calling `make`; the counter still advances.
  template <class Make>
  bool push(Make&& make) {
    Lock lock(mutex_);
    const std::size_t position = next_position_++;
    if (stopping_) return false;
    enqueue(make(position), position);
    changed();
    const std::size_t wake = worker_to_wake(position);
    lock.unlock();
    if (wake < worker_count()) wake_[wake].notify_one();
    return true;
  }
  // Queues `count` tasks, made by `make(0..count-1)` at positions 0..count-1, in one critical section so
  // that they sit together in the queues (full batches) and no concurrent push interleaves with them;
  // then wakes every worker to look. After stop() it returns false without calling `make`.
  // With `guest` given, the caller first takes a batch as a guest of an idle worker, in the same critical
  // section (see take_as_guest): `*guest` is that worker (worker_count(): none), its tasks in
  // `guest_tasks`; the workers are woken only when tasks are left.
  template <class Make>
  bool push_all(std::size_t count, Make&& make, std::vector<Task>* guest_tasks = nullptr,
                std::size_t* guest = nullptr) {
    bool wake_all = true;
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return false;
      for (std::size_t i = 0; i < count; ++i) enqueue(make(i), i);
      changed();
      if (guest != nullptr) *guest = take_as_guest(*guest_tasks);
      wake_all = woke_after_push_all();
    }
    if (wake_all) {
      for (std::condition_variable& wake : wake_) wake.notify_one();  // a worker is each one's only waiter
    }
    return true;
  }

  // The caller's guest batch on `worker` ended (`last`: learnt as that worker's); takes another batch as a
  // guest (into `tasks`, cleared first) when the policy allows it and returns its worker, else
  // worker_count(). Wakes whoever should look at what is queued.
  std::size_t guest_again(std::size_t worker, const LastBatch& last, std::vector<Task>& tasks) {
    tasks.clear();
    std::size_t next = worker_count();
    std::size_t wake = worker_count();
    {
      const std::lock_guard lock(mutex_);
      end_guest(worker, last);
      if (!stopping_) next = take_as_guest(tasks);
      wake = wake_for_queued();  // what the guest left
    }
    if (wake < worker_count()) wake_[wake].notify_one();
    return next;
  }

  // Blocks until `worker` has tasks to run (moved into `tasks`, 1..its max_batch of them, in queue
  // order) and returns true, or until stop() and returns false. `last` is its previous batch.
  bool next(std::size_t worker, const LastBatch& last, std::vector<Task>& tasks) {
    tasks.clear();
    std::size_t wake = worker_count();
    {
      Lock lock(mutex_);
      wake = take(lock, worker, last, tasks);
    }
    if (wake < worker_count()) wake_[wake].notify_one();
    return !tasks.empty();
  }

  // The worker's on_start failed: it will fail each item it takes at once.
  void mark_start_failed(std::size_t worker) {
    const std::lock_guard lock(mutex_);
    start_failed(worker);
  }

  // Takes no more tasks and wakes every worker so that next() returns false once its batch is done.
  // Returns the tasks still queued, in queue order per queue, for the caller to cancel.
  std::vector<Task> stop() {
    std::vector<Task> queued;
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
      changed();
      drain(queued);
    }
    for (std::condition_variable& wake : wake_) wake.notify_all();
    return queued;
  }

 protected:
  explicit QueuePolicy(std::size_t workers) : wake_(workers) {}

  // The hooks; the caller holds the mutex (`lock` where the hook may wait on it).
  virtual void enqueue(Task&& task, std::size_t position) = 0;
  // The worker to wake for the task just queued at `position`, after the lock is released; worker_count()
  // for none. (A policy that must wake several wakes the others itself, under the lock.)
  [[nodiscard]] virtual std::size_t worker_to_wake(std::size_t position) = 0;
  // Waits (on worker_cv(worker), through `lock`) until the worker should take tasks, moves them into
  // `tasks` and returns the worker to wake for what it left queued (worker_count() for none); returns
  // with `tasks` empty only when stopping.
  virtual std::size_t take(Lock& lock, std::size_t worker, const LastBatch& last, std::vector<Task>& tasks) = 0;
  virtual void drain(std::vector<Task>& out) = 0;
  virtual void start_failed(std::size_t /*worker*/) {}
  // Guests: without blocking, the tasks the calling thread may run as a guest of an idle worker that
  // allows it (WorkerSlot::caller_may_run), as that worker would take them; returns the worker, or
  // worker_count() when none (the default: policies without guests).
  virtual std::size_t take_as_guest(std::vector<Task>& /*tasks*/) { return worker_count(); }
  // The guest's batch on `worker` ended.
  virtual void end_guest(std::size_t /*worker*/, const LastBatch& /*last*/) {}
  // Wakes (under the lock) or returns (to wake after it) whoever should look at the tasks queued.
  virtual std::size_t wake_for_queued() { return worker_count(); }
  // After push_all's tasks are queued (and a guest took its batch): wakes, under the lock, the workers
  // that should look and returns false, or returns true for push_all to wake every worker.
  virtual bool woke_after_push_all() { return true; }

  [[nodiscard]] bool stopping() const noexcept { return stopping_; }
  std::condition_variable& worker_cv(std::size_t worker) { return wake_[worker]; }

  // Instead of sleeping on its condition variable: releases `lock` and polls, yielding its core at
  // every look, until something is queued or stop() is called, or until `until`; returns with the lock
  // held again, for the caller to look at the queue as after a wake-up. A worker polling this way starts
  // an item queued meanwhile without a thread wake-up, which on a VM costs tens of microseconds (a
  // condition variable's round trip to another thread and back: 15 us back to back, 20 us with 2 ms
  // between items, 30 us with 20 ms; polling: 1-8 us).
  // It gives way to other threads: when its core is wanted (kLateLooks of its yields came back late),
  // it stops and returns true, for the caller to sleep instead: a busy thread on the same core gets it
  // back only at the end of that thread's time slice (milliseconds), where a woken one is let in at once.
  bool poll_for_change(Lock& lock, std::chrono::steady_clock::time_point until) {
    using Clock = std::chrono::steady_clock;
    constexpr auto kLate = std::chrono::microseconds(200);
    constexpr int kLateLooks = 3;  // not one: a VM's vCPU is at times descheduled for a moment
    const std::uint64_t seen = changes_.load(std::memory_order_relaxed);  // the lock is held
    lock.unlock();
    int late = 0;
    bool gave_way = false;
    for (auto last = Clock::now(); changes_.load(std::memory_order_acquire) == seen;) {
      std::this_thread::yield();
      const auto now = Clock::now();
      if (now >= until) break;
      if (now - last > kLate && ++late == kLateLooks) {
        gave_way = true;
        break;
      }
      last = now;
    }
    lock.lock();
    return gave_way;
  }

  static void move_front(std::deque<Task>& from, std::size_t count, std::vector<Task>& to) {
    for (std::size_t i = 0; i < count; ++i) {
      to.push_back(std::move(from.front()));
      from.pop_front();
    }
  }

 private:
  // Under the lock, after tasks were queued or stop() was called: what a polling worker watches.
  void changed() { changes_.fetch_add(1, std::memory_order_release); }

  std::mutex mutex_;
  bool stopping_ = false;                  // guarded by mutex_
  std::size_t next_position_ = 0;          // guarded by mutex_
  std::atomic<std::uint64_t> changes_{0};  // written under mutex_, read by polling workers without it
  std::vector<std::condition_variable> wake_;
};

}  // namespace onnxpool::detail
