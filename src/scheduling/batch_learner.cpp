#include "onnxpool/scheduling/batch_learner.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <tuple>
#include <utility>
#include <vector>

namespace onnxpool::detail {

BatchLearner::BatchLearner(std::vector<std::size_t> caps, std::vector<bool> learning,
                           const std::vector<std::size_t>& groups, std::vector<std::size_t> warmups)
    : caps_(std::move(caps)), warmups_(std::move(warmups)), table_(caps_.size(), kNone), runs_(caps_.size()) {
  warmups_.resize(caps_.size(), 1);
  std::vector<std::tuple<std::size_t, std::size_t, std::size_t>> keys;  // per table: group, cap, warm-up
  for (std::size_t w = 0; w < caps_.size(); ++w) {
    if (w >= learning.size() || !learning[w] || caps_[w] < 2) continue;
    // Sizes 1, 2, 4, ... up to the cap.
    const auto count = static_cast<std::size_t>(std::bit_width(caps_[w]));
    runs_[w].assign(count, 0);
    const auto key = std::make_tuple(groups.size() == caps_.size() ? groups[w] : kNone - w, caps_[w], warmups_[w]);
    const auto same = std::find(keys.begin(), keys.end(), key);
    table_[w] = static_cast<std::size_t>(same - keys.begin());
    if (same != keys.end()) continue;
    keys.push_back(key);
    Sizes& sizes = tables_.emplace_back();
    sizes.per_item.assign(count, 0.0);
    sizes.counted.assign(count, 0);
    sizes.stale.assign(count, false);
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

bool BatchLearner::warm(std::size_t worker, std::size_t k) const {
  return runs_[worker][k] >= warmups_[worker];
}

bool BatchLearner::group_warm(std::size_t worker, std::size_t k) const {
  for (std::size_t other = 0; other < table_.size(); ++other) {
    if (table_[other] == table_[worker] && warm(other, k)) return true;
  }
  return false;
}

std::size_t BatchLearner::best(std::size_t worker) const {
  return learning(worker) ? std::size_t{1} << best_index(tables_[table_[worker]]) : caps_[worker];
}

std::size_t BatchLearner::size(std::size_t worker, std::size_t queued, std::size_t sharing, bool whole) const {
  if (!learning(worker)) return caps_[worker];
  const Sizes& sizes = tables_[table_[worker]];
  const std::vector<std::size_t>& runs = runs_[worker];
  const std::size_t count = sizes.per_item.size();
  const std::size_t best = best_index(sizes);
  if (whole && best > 0) return std::min(std::max<std::size_t>(queued, 1), caps_[worker]);
  // Explore only from a measured best: until size 1 is measured, items run one at a time, the
  // yardstick of the rest.
  std::size_t target = best;
  if (measured(sizes, best)) {
    const std::size_t up = best + 1;
    if (up < count && !measured(sizes, up)) {
      // The best so far is the largest measured: try the next size up, or go on with a try this worker
      // has begun. The first try (of 2) waits until it is paid for; once a size has paid, the next is
      // tried at once, as its gain is then likely to repay its warm-up within a few runs.
      const std::size_t due = best == 0 ? kAmortize * 2 : 0;
      const bool mine = sizes.climber == worker || sizes.climber == kNone;
      const std::size_t join = kAmortize * (std::size_t{1} << up);  // others join a slow try after this
      if (runs[up] > 0 || (sizes.since_climb >= due && (mine || sizes.since_climb >= std::max(due, join)))) {
        target = up;
      }
    } else if (sizes.since_try >= sizes.retry_every) {
      const bool go_up = up < count && (sizes.try_up || best == 0);
      const std::size_t other = go_up ? up : (best > 0 ? best - 1 : best);
      // A retry is one run, counted only past the worker's warm-up at that size: taken by a worker
      // already warm there (it then costs no more than the sizes' difference), unless none of the group is.
      if (warm(worker, other) || !group_warm(worker, other)) target = other;
    }
  }
  // Never more than this worker's even share of the queue (what is left over is the tail's, which the
  // planners deal out), and a power of two.
  const std::size_t share = std::max<std::size_t>(1, queued / std::max<std::size_t>(sharing, 1));
  return std::bit_floor(std::min(std::size_t{1} << target, share));
}

void BatchLearner::learn(std::size_t worker, std::size_t items, double seconds) {
  if (!learning(worker) || items == 0 || !std::has_single_bit(items)) return;
  Sizes& sizes = tables_[table_[worker]];
  const auto k = static_cast<std::size_t>(std::bit_width(items) - 1);
  if (k >= sizes.per_item.size()) return;
  const std::size_t best = best_index(sizes);
  const bool counts = warm(worker, k);
  ++runs_[worker][k];
  if (!counts) {
    // This worker's first runs at the size: a warm-up. At an unmeasured size, this worker is the one
    // trying it.
    if (k > best && !measured(sizes, k) && sizes.climber == kNone) sizes.climber = worker;
    return;
  }
  // A moving average, as the TailPlanner's pace: recent runs count most, one outlier does not decide.
  constexpr double weight = 0.3;
  const double sample = seconds / static_cast<double>(items);
  double& average = sizes.per_item[k];
  average = sizes.counted[k] == 0 || sizes.stale[k] ? sample : (1.0 - weight) * average + weight * sample;
  ++sizes.counted[k];
  const bool climbed = k > best && sizes.counted[k] == kMeasuredRuns;  // a new size is now measured
  sizes.stale[k] = false;
  if (k == best) {
    sizes.since_climb += items;
    // Time to try a neighbour again: the others' averages are old by now.
    if (++sizes.since_try == sizes.retry_every) {
      for (std::size_t other = 0; other < sizes.stale.size(); ++other) sizes.stale[other] = other != k;
    }
    return;
  }
  // Another size than the best: a climb to a new one, a retry of a neighbour, or a smaller batch at a
  // job's tail (which only adds to that size's average).
  const bool kept = best_index(sizes) == best;
  if (climbed) {
    sizes.since_climb = 0;
    sizes.climber = kNone;
    // Won or lost, the next retry is kRetry batches away, not at the end of an interval begun before
    // the climb (the header says why soon).
    sizes.since_try = 0;
    sizes.retry_every = kRetry;
  } else if (sizes.since_try >= sizes.retry_every) {
    sizes.retry_every = kept ? std::min(2 * sizes.retry_every, kRetryMax) : kRetry;
    sizes.try_up = !sizes.try_up;
    sizes.since_try = 0;
  } else if (!kept) {
    sizes.retry_every = kRetry;
    sizes.since_try = 0;
  }
  if (!kept) sizes.since_climb = 0;  // a new best: the next size's try is paid for by runs at it
}

}  // namespace onnxpool::detail
