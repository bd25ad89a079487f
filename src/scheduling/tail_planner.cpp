#include "onnxpool/scheduling/tail_planner.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

namespace onnxpool::detail {

TailPlanner::TailPlanner(std::vector<std::size_t> max_batches, std::vector<std::size_t> peers)
    : max_batches_(std::move(max_batches)), peers_(std::move(peers)), paces_(max_batches_.size()) {
  if (!peers_.empty() && peers_.size() != max_batches_.size()) peers_.clear();
}

void TailPlanner::learn(std::size_t worker, double seconds, std::size_t items) {
  if (items == 0) return;
  // An exponential moving average: recent runs count most (clocks and caches warm up, a GPU settles),
  // one outlier does not decide. 0.3 forgets a sample's weight to 3% within ten runs.
  constexpr double weight = 0.3;
  const double sample = seconds / static_cast<double>(items);
  double& average = paces_[worker].seconds_per_item;
  const std::size_t runs = ++paces_[worker].runs;
  // The second run replaces the first too: a session's first run also plans its memory and fills its
  // caches (a MobileNetV2 worker's took 13.7 ms, its next 5.5), and a worker that looks that slow is
  // left the few items a job ends with, so it would seldom run again to correct it.
  if (average <= 0.0 || runs == 2 || sample < average / 4.0) {
    // First run, or a run four times faster than the average: a warm-up run is behind (a GPU's first
    // run loads kernels and tunes convolutions, seconds long). Averaging it away would take many runs,
    // during which the worker would decline items it is in fact fast at.
    average = sample;
  } else {
    average = (1.0 - weight) * average + weight * sample;
  }
  if (average <= 0.0) average = 1e-9;  // measured, however fast
}

void TailPlanner::mark_start_failed(std::size_t worker) {
  paces_[worker].start_failed = true;
}

void TailPlanner::set_waiting(std::size_t worker, bool waiting) {
  paces_[worker].waiting = waiting;
}

void TailPlanner::begin_batch(std::size_t worker, Clock::time_point now, std::size_t items) {
  Pace& pace = paces_[worker];
  pace.busy = true;
  pace.started = now;
  pace.expected = pace.seconds_per_item * static_cast<double>(items);
}

void TailPlanner::end_batch(std::size_t worker, double seconds, std::size_t items) {
  Pace& pace = paces_[worker];
  // A failed worker's "runs" are instant failures, not its pace.
  if (pace.busy && !pace.start_failed) learn(worker, seconds, items);
  pace.busy = false;
}

double TailPlanner::free_in(const Pace& pace, Clock::time_point now) {
  if (!pace.busy) return 0.0;
  const double elapsed = std::chrono::duration<double>(now - pace.started).count();
  return elapsed < pace.expected ? pace.expected - elapsed : elapsed;
}

bool TailPlanner::is_peer(std::size_t a, std::size_t b) const {
  return a != b && (peers_.empty() || peers_[a] == peers_[b]) && !paces_[a].start_failed;
}

bool TailPlanner::counted(std::size_t other, std::size_t worker) const {
  return is_peer(other, worker) && paces_[other].seconds_per_item > 0.0;
}

auto TailPlanner::decide(std::size_t worker, Clock::time_point now, std::size_t queued) const -> Decision {
  const Pace& mine = paces_[worker];
  Decision decision{.take = std::min(max_batches_[worker], queued), .better = worker, .recheck = now};
  // Unmeasured or failed workers take what they can: the first must run to be measured (past its first
  // run, a warm-up that would make it look slower than it is), the second fails its items at once
  // rather than holding them.
  if (mine.start_failed || mine.runs < 2) return decision;

  double rate = 0.0;
  double soonest_busy = -1.0;
  double earliest_other = -1.0;  // the soonest any other would finish its first chunk of the queue
  for (std::size_t v = 0; v < paces_.size(); ++v) {
    if (!counted(v, worker)) continue;
    const Pace& pace = paces_[v];
    const double free = free_in(pace, now);
    if (pace.busy) soonest_busy = soonest_busy < 0.0 ? free : std::min(soonest_busy, free);
    rate += 1.0 / pace.seconds_per_item;
    const double first_chunk = free + pace.seconds_per_item * static_cast<double>(std::min(max_batches_[v], queued));
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
  std::vector<Available> others;
  for (std::size_t v = 0; v < paces_.size(); ++v) {
    if (counted(v, worker)) others.push_back({.worker = v, .free_in = free_in(paces_[v], now)});
  }
  const Makespan without = makespan(others, queued);
  const double with = std::max(mine_done, makespan(std::move(others), queued - decision.take).seconds);
  if (with <= without.seconds) return decision;
  // Look again when a busy worker is due (1 ms when none is busy), at least 50 us on: the estimates may
  // be wrong.
  const double wait = std::max(50e-6, soonest_busy < 0.0 ? 1e-3 : soonest_busy);
  return {.take = 0,
          .better = without.first,
          .recheck = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait))};
}

auto TailPlanner::makespan(std::vector<Available> others, std::size_t items) const -> Makespan {
  Makespan result{.seconds = 0.0, .first = worker_count()};
  if (items > 0 && others.empty()) {
    result.seconds = std::numeric_limits<double>::infinity();
    return result;
  }
  while (items > 0) {
    // The next chunk goes to whoever would finish it first, as the free workers would pull it.
    std::size_t pick = 0;
    double pick_end = 0.0;
    for (std::size_t i = 0; i < others.size(); ++i) {
      const std::size_t v = others[i].worker;
      const auto chunk = static_cast<double>(std::min(max_batches_[v], items));
      const double finish = others[i].free_in + paces_[v].seconds_per_item * chunk;
      if (i == 0 || finish < pick_end) {
        pick = i;
        pick_end = finish;
      }
    }
    const std::size_t v = others[pick].worker;
    items -= std::min(max_batches_[v], items);
    others[pick].free_in = pick_end;
    result.seconds = std::max(result.seconds, pick_end);
    if (result.first == worker_count()) result.first = v;
  }
  return result;
}

std::size_t TailPlanner::peer_count(std::size_t worker) const {
  std::size_t count = 1;
  for (std::size_t v = 0; v < paces_.size(); ++v) count += is_peer(v, worker) ? 1 : 0;
  return count;
}

std::size_t TailPlanner::best_waiting(std::size_t except) const {
  std::size_t best = worker_count();
  for (std::size_t w = 0; w < paces_.size(); ++w) {
    if (w == except || !paces_[w].waiting) continue;
    // Unmeasured workers (0 s per item) sort first: they must run to be measured.
    if (best == worker_count() || paces_[w].seconds_per_item < paces_[best].seconds_per_item) best = w;
  }
  return best;
}

}  // namespace onnxpool::detail
