#pragma once
// The static policy: one queue per worker, the split fixed up front (the tutorial's imgs[i::W]): the
// task at position k goes to worker (k mod W)'s queue, and a push wakes only that worker (its queue's
// condition variable is the one it sleeps on). The slowest worker bounds the wall time.
#include <algorithm>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

#include "onnxpool/scheduling/queue_policy.hpp"

namespace onnxpool::detail {

template <class Task>
class StaticQueues final : public QueuePolicy<Task> {
  using Base = QueuePolicy<Task>;

 public:
  // One worker per entry: the most tasks it takes at once.
  explicit StaticQueues(std::vector<std::size_t> max_batches)
      : Base(max_batches.size()), max_batches_(std::move(max_batches)), queues_(max_batches_.size()) {}

 private:
  void enqueue(Task&& task, std::size_t position) override {
    queues_[position % queues_.size()].push_back(std::move(task));
  }
  [[nodiscard]] std::size_t worker_to_wake(std::size_t position) override { return position % queues_.size(); }
  std::size_t take(typename Base::Lock& lock, std::size_t worker, const typename Base::LastBatch& /*last*/,
                   std::vector<Task>& tasks) override {
    std::deque<Task>& queue = queues_[worker];
    this->worker_cv(worker).wait(lock, [&] { return this->stopping() || !queue.empty(); });
    // Stopping: the items still queued are cancelled by whoever called stop().
    if (this->stopping()) return this->worker_count();
    // What is already queued, up to max_batch; never wait for more to fill a batch.
    Base::move_front(queue, std::min(max_batches_[worker], queue.size()), tasks);
    return this->worker_count();  // no one else takes from this queue
  }
  void drain(std::vector<Task>& out) override {
    for (std::deque<Task>& queue : queues_) {
      for (Task& task : queue) out.push_back(std::move(task));
      queue.clear();
    }
  }

  const std::vector<std::size_t> max_batches_;
  std::vector<std::deque<Task>> queues_;  // queues_[w]: worker w's
};

}  // namespace onnxpool::detail
