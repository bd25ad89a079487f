#pragma once
// The dynamic policy's batch size for workers whose max_batch is a cap to learn under
// (WorkerSlot::learn_batch), as a pure planner beside the TailPlanner: from each such worker's runs it
// learns the seconds per item at each power-of-two batch size up to the cap, and the worker takes the
// size that ran items fastest. Whether stacking items pays depends on the model and the machine: on
// this project's 2-core VM a GPT-2-style model ran 2 items stacked 1.2-1.4x faster than one by one
// while MobileNetV2 ran 0.9x (docs/ROADMAP.md, issue 10), so it is measured, never assumed.
//
// How it learns: sizes are tried upward from 1, each next size as long as the last was faster per item
// (by 3% at least: kGain); a size's first run is a warm-up and not counted (ONNX Runtime plans memory
// for a new shape then). Every kRetry batches at the best size, the next run tries a neighbour (up,
// then down), whose old average that run replaces, so a size that lost to noise or to a different load
// gets another chance. Sizes are powers of two, so a session sees few distinct shapes.
//
// How many to take: never more than an even share of the queued items among the workers like this
// one (busy or not: a busy one is soon back), so a few items still spread over the workers rather than
// being stacked on one.
//
// No mutex, threads or clock: DynamicQueue calls it under its lock, and the tests drive it from tables.
#include <cstddef>
#include <vector>

namespace onnxpool::detail {

class BatchLearner {
 public:
  // Batches at the best size between two tries of a neighbouring size.
  static constexpr std::size_t kRetry = 32;
  // A larger size is the best only when its seconds per item are below this share of a smaller one's.
  static constexpr double kGain = 0.97;

  // One entry per worker: its max_batch, and whether it learns under it (when not, it always takes up
  // to its max_batch, as a fixed batch).
  BatchLearner(std::vector<std::size_t> caps, std::vector<bool> learning);

  [[nodiscard]] bool learning(std::size_t worker) const { return !sizes_[worker].per_item.empty(); }
  // The most items `worker` should take now of `queued`, when `sharing` (>= 1) workers like it, itself
  // included, share the queue. `whole`: the worker is to run all `queued` (a
  // run_all() caller keeping a small job, width_planner.hpp): once stacking has paid on it, all of them
  // in one run (up to its cap), as a single session given the whole job stacked would.
  [[nodiscard]] std::size_t size(std::size_t worker, std::size_t queued, std::size_t sharing, bool whole = false) const;
  // `worker` ran a batch of `items` in `seconds`.
  void learn(std::size_t worker, std::size_t items, double seconds);
  // The size `worker` runs items fastest at, as learnt so far (1 before anything is measured).
  [[nodiscard]] std::size_t best(std::size_t worker) const;

 private:
  struct Sizes {
    std::vector<double> per_item;   // per power of two (index k: 2^k items), moving average
    std::vector<std::size_t> runs;  // runs seen at that size, the warm-up included
    std::vector<bool> stale;        // older than the last kRetry batches: its next run replaces it
    std::size_t since_try = 0;      // batches at the best size since a neighbour was last tried
    bool try_up = true;             // the next neighbour tried: the size above, else below
  };
  [[nodiscard]] static bool measured(const Sizes& sizes, std::size_t k) { return sizes.runs[k] >= 2; }
  [[nodiscard]] static std::size_t best_index(const Sizes& sizes);

  std::vector<std::size_t> caps_;
  std::vector<Sizes> sizes_;
};

}  // namespace onnxpool::detail
