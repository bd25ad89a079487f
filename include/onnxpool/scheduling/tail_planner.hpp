#pragma once
// The dynamic policy's tail look-ahead, as a pure planner: what it knows of each worker (its pace, learnt
// from its runs, and whether it is busy, waiting or failed to start) and, from that, whether a free worker
// should take items from the shared queue or leave them to a faster one. No mutex, no threads, no clock:
// the caller (DynamicQueue, under its lock) passes `now`, so the decisions are tested from tables.
//
// Why: a greedy pull lets a slow worker (a CPU beside a GPU) take an item that the fast one would have
// done many times over before the slow one finishes, so the whole run waits for it. A free worker
// therefore declines the queue's items when the others would finish all of them sooner without it.
#include <chrono>
#include <cstddef>
#include <vector>

namespace onnxpool::detail {

class TailPlanner {
 public:
  using Clock = std::chrono::steady_clock;

  // What the planner knows of a worker's speed and state.
  struct Pace {
    double seconds_per_item = 0.0;  // moving average over its runs; 0: not measured yet
    std::size_t runs = 0;           // runs learnt from
    bool busy = false;              // inside a batch taken at `started`, expected to last `expected` s
    Clock::time_point started{};
    double expected = 0.0;
    bool waiting = false;       // blocked, waiting for items or for its recheck time
    bool start_failed = false;  // fails items at once: never counted on, never holds items back
  };
  // The choice for a free worker: how many of the queued items to take (0: leave them to `better`, and
  // look again at `recheck`).
  struct Decision {
    std::size_t take = 0;
    std::size_t better = 0;
    Clock::time_point recheck{};
  };
  // A worker that may take part of the queue, and the seconds until it is free to.
  struct Available {
    std::size_t worker = 0;
    double free_in = 0.0;
  };
  // When the last of some items would be done (seconds from now), and which worker takes the first chunk
  // (worker_count() when there is no item).
  struct Makespan {
    double seconds = 0.0;
    std::size_t first = 0;
  };

  // One worker per entry: the most items it runs at once. `peers`, when given (one per worker), limits
  // whom a decision counts on to the workers of the same value: a pool whose workers differ in width
  // (width_planner.hpp) weighs only workers of its own width here, the widths being the WidthPlanner's.
  explicit TailPlanner(std::vector<std::size_t> max_batches, std::vector<std::size_t> peers = {});

  [[nodiscard]] std::size_t worker_count() const noexcept { return max_batches_.size(); }
  [[nodiscard]] const Pace& pace(std::size_t worker) const { return paces_[worker]; }
  [[nodiscard]] std::size_t max_batch(std::size_t worker) const { return max_batches_[worker]; }
  // The most items the worker takes at once from now on (a learnt batch size: batch_learner.hpp).
  void set_max_batch(std::size_t worker, std::size_t items) { max_batches_[worker] = items; }
  // `worker` and its peers that started fine: the workers that share the queue with it.
  [[nodiscard]] std::size_t peer_count(std::size_t worker) const;
  // Seconds until the worker is free; one past its expected finish is assumed to need as long again as
  // it has run so far.
  [[nodiscard]] static double free_in(const Pace& pace, Clock::time_point now);

  // `worker` ran `items` items in `seconds`: updates its seconds per item (see the .cpp for the rule).
  void learn(std::size_t worker, double seconds, std::size_t items);
  // The worker's on_start failed: from now on it is never counted on and never declines.
  void mark_start_failed(std::size_t worker);
  void set_waiting(std::size_t worker, bool waiting);
  // `worker` took `items` at `now`: busy until about now + its pace times `items`.
  void begin_batch(std::size_t worker, Clock::time_point now, std::size_t items);
  // `worker` is free again; its last batch (of `items`, `seconds` inside `run`) is learnt if it had one
  // and started fine.
  void end_batch(std::size_t worker, double seconds, std::size_t items);

  // What the free `worker` should take of `queued` (> 0) items at `now`.
  [[nodiscard]] Decision decide(std::size_t worker, Clock::time_point now, std::size_t queued) const;
  // The makespan of `items` spread over `others` by earliest finish, as free workers would pull them.
  // Infinite when there are items and no one to do them.
  [[nodiscard]] Makespan makespan(std::vector<Available> others, std::size_t items) const;
  // The waiting worker to wake for queued items, other than `except`: unmeasured ones first (they must
  // run to be measured), then the fastest, the lowest index on ties; worker_count() when none waits.
  [[nodiscard]] std::size_t best_waiting(std::size_t except) const;

 private:
  // Not `worker` itself, of its peers and started fine: the others that share its queue.
  [[nodiscard]] bool is_peer(std::size_t other, std::size_t worker) const;
  // A peer that is measured: the others whose pace a decision can rely on.
  [[nodiscard]] bool counted(std::size_t other, std::size_t worker) const;

  std::vector<std::size_t> max_batches_;
  std::vector<std::size_t> peers_;  // empty: everyone is everyone's peer
  std::vector<Pace> paces_;
};

}  // namespace onnxpool::detail
