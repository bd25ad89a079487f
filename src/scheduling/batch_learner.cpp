#include "onnxpool/scheduling/batch_learner.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <utility>
#include <vector>

namespace onnxpool::detail {

BatchLearner::BatchLearner(std::vector<std::size_t> caps, std::vector<bool> learning)
    : caps_(std::move(caps)), sizes_(caps_.size()) {
  for (std::size_t w = 0; w < caps_.size(); ++w) {
    if (w >= learning.size() || !learning[w] || caps_[w] < 2) continue;
    // Sizes 1, 2, 4, ... up to the cap.
    const std::size_t count = static_cast<std::size_t>(std::bit_width(caps_[w]));
    sizes_[w].per_item.assign(count, 0.0);
    sizes_[w].runs.assign(count, 0);
    sizes_[w].stale.assign(count, false);
  }
}

std::size_t BatchLearner::best_index(const Sizes& sizes) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < sizes.per_item.size(); ++k) {
    // A larger size must be clearly faster: one that only ties holds items on one worker for nothing.
    if (measured(sizes, k) && (!measured(sizes, best) || sizes.per_item[k] < kGain * sizes.per_item[best])) best = k;
  }
  return best;
}

std::size_t BatchLearner::best(std::size_t worker) const {
  return learning(worker) ? std::size_t{1} << best_index(sizes_[worker]) : caps_[worker];
}

std::size_t BatchLearner::size(std::size_t worker, std::size_t queued, std::size_t sharing, bool whole) const {
  if (!learning(worker)) return caps_[worker];
  const Sizes& sizes = sizes_[worker];
  const std::size_t count = sizes.per_item.size();
  const std::size_t best = best_index(sizes);
  if (whole && best > 0) return std::min(std::max<std::size_t>(queued, 1), caps_[worker]);
  // Explore only from a measured best: until size 1 is measured, items run one at a time, the
  // yardstick of the rest.
  std::size_t target = best;
  if (measured(sizes, best)) {
    if (best + 1 < count && !measured(sizes, best + 1)) {
      target = best + 1;  // the best so far is the largest measured: try the next size up
    } else if (sizes.since_try >= kRetry) {
      const bool up = best + 1 < count && (sizes.try_up || best == 0);
      target = up ? best + 1 : (best > 0 ? best - 1 : best);
    }
  }
  // Never more than this worker's even share of the queue (what is left over is the tail's, which the
  // planners deal out), and a power of two.
  const std::size_t share = std::max<std::size_t>(1, queued / std::max<std::size_t>(sharing, 1));
  return std::bit_floor(std::min(std::size_t{1} << target, share));
}

void BatchLearner::learn(std::size_t worker, std::size_t items, double seconds) {
  if (!learning(worker) || items == 0 || !std::has_single_bit(items)) return;
  Sizes& sizes = sizes_[worker];
  const auto k = static_cast<std::size_t>(std::bit_width(items) - 1);
  if (k >= sizes.per_item.size()) return;
  const std::size_t best = best_index(sizes);
  if (++sizes.runs[k] < 2) return;  // the size's first run: a warm-up
  // A moving average, as the TailPlanner's pace: recent runs count most, one outlier does not decide.
  constexpr double weight = 0.3;
  const double sample = seconds / static_cast<double>(items);
  double& average = sizes.per_item[k];
  average = sizes.runs[k] == 2 || sizes.stale[k] ? sample : (1.0 - weight) * average + weight * sample;
  sizes.stale[k] = false;
  if (k == best) {
    // Time to try a neighbour again: the others' averages are old by now.
    if (++sizes.since_try == kRetry) {
      for (std::size_t other = 0; other < sizes.stale.size(); ++other) sizes.stale[other] = other != k;
    }
  } else {
    sizes.since_try = 0;
    sizes.try_up = !sizes.try_up;
  }
}

}  // namespace onnxpool::detail
