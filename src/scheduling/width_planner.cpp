#include "onnxpool/scheduling/width_planner.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "onnxpool/error.hpp"

namespace onnxpool::detail {
namespace {

TailPlanner::Clock::time_point after(TailPlanner::Clock::time_point now, double seconds) {
  return now + std::chrono::duration_cast<TailPlanner::Clock::duration>(std::chrono::duration<double>(seconds));
}

// Seconds until a busy worker is due to free its cores. Run times vary by some percent, so one up to a
// quarter past its expected end is taken to end by then; later than that, the TailPlanner's rule: as long
// again as it has run (a warm-up, a stall).
double due_in(const TailPlanner::Pace& pace, TailPlanner::Clock::time_point now) {
  if (pace.busy) {
    const double elapsed = std::chrono::duration<double>(now - pace.started).count();
    if (elapsed >= pace.expected && elapsed < 1.25 * pace.expected) return 1.25 * pace.expected - elapsed;
  }
  return TailPlanner::free_in(pace, now);
}

}  // namespace

WidthPlanner::WidthPlanner(std::vector<std::size_t> widths, std::size_t cores)
    : widths_(std::move(widths)), cores_(cores) {
  for (std::size_t w = 0; w < widths_.size(); ++w) {
    if (cores_ > 0 && widths_[w] > cores_) {
      throw Error(
          fmt::format("worker {} is {} cores wide, more than the {} cores the workers share", w, widths_[w], cores_));
    }
  }
}

bool WidthPlanner::budgeted(const TailPlanner& paces, std::size_t worker) const {
  return active() && widths_[worker] > 0 && !paces.pace(worker).start_failed;
}

std::size_t WidthPlanner::free_cores(const TailPlanner& paces) const {
  std::size_t held = 0;
  for (std::size_t w = 0; w < widths_.size(); ++w) {
    if (budgeted(paces, w) && paces.pace(w).busy) held += widths_[w];
  }
  return held >= cores_ ? 0 : cores_ - held;
}

std::size_t WidthPlanner::pick(const TailPlanner& paces, std::size_t queued, bool guest) const {
  if (queued == 0) return 0;
  const std::size_t free = free_cores(paces);
  std::size_t narrowest = 0;
  std::size_t widest = 0;
  double widest_pace = 0.0;
  for (std::size_t w = 0; w < widths_.size(); ++w) {
    if (!budgeted(paces, w) || paces.pace(w).busy || widths_[w] > free) continue;
    if (narrowest == 0 || widths_[w] < narrowest) narrowest = widths_[w];
    if (widths_[w] > widest) {
      widest = widths_[w];
      widest_pace = paces.pace(w).seconds_per_item;
    }
  }
  // A caller whose whole job is queued and small keeps it: on the widest worker, on its own thread.
  if (guest && widest_pace > 0.0 && static_cast<double>(queued) * widest_pace <= kGuestGrain) return widest;
  if (narrowest == 0 || queued * narrowest >= free) return narrowest;
  // Fewer items than the narrowest workers would need to fill the free cores: each item gets its share.
  const std::size_t share = free / queued;
  std::size_t best = narrowest;
  for (std::size_t w = 0; w < widths_.size(); ++w) {
    if (!budgeted(paces, w) || paces.pace(w).busy) continue;
    if (widths_[w] <= share && widths_[w] > best) best = widths_[w];
  }
  return best;
}

auto WidthPlanner::decide(std::size_t worker, const TailPlanner& paces, Clock::time_point now, std::size_t queued,
                          bool guest) const -> Verdict {
  const std::size_t none = widths_.size();
  Verdict verdict{.take = true, .better = worker, .recheck = now};
  if (!budgeted(paces, worker)) return verdict;

  // When the cores held now are due back: the soonest and the last of the busy workers' ends.
  double soonest = -1.0;
  double last = 0.0;
  for (std::size_t w = 0; w < widths_.size(); ++w) {
    if (!budgeted(paces, w) || !paces.pace(w).busy) continue;
    const double free = due_in(paces.pace(w), now);
    soonest = soonest < 0.0 ? free : std::min(soonest, free);
    last = std::max(last, free);
  }
  // A declining worker looks again `seconds` on, at least 50 us.
  const auto wait = [&](std::size_t better, double seconds) {
    return Verdict{.take = false, .better = better, .recheck = after(now, std::max(50e-6, seconds))};
  };
  // Not this worker's turn: whoever's turn it is gets woken by the push or the end that makes it so
  // (DynamicQueue wakes by width), so the recheck is only a safety net, late enough not to wake it for
  // nothing while the others run (on 2 cores a woken thread takes a core from a running one).
  const double safety = std::max(10e-3, 4.0 * (soonest < 0.0 ? 0.0 : soonest));
  const std::size_t mine = widths_[worker];
  const std::size_t width = pick(paces, queued, guest);
  if (mine > free_cores(paces) || width == 0) return wait(none, safety);
  if (mine != width) {
    std::size_t better = none;
    for (std::size_t w = 0; w < widths_.size() && better == none; ++w) {
      if (budgeted(paces, w) && !paces.pace(w).busy && widths_[w] == width) better = w;
    }
    return wait(better, safety);
  }

  // Too few items to fill the machine: would the cores held now, once back, run them sooner on the
  // widest worker than this one runs its share now, its peers taking the rest as they free?
  const TailPlanner::Pace& own = paces.pace(worker);
  if (queued * mine >= cores_ || own.seconds_per_item <= 0.0) return verdict;
  std::size_t wide = none;
  for (std::size_t w = 0; w < widths_.size(); ++w) {
    const TailPlanner::Pace& pace = paces.pace(w);
    if (!budgeted(paces, w) || pace.busy || widths_[w] <= mine || pace.seconds_per_item <= 0.0) continue;
    if (wide == none || widths_[w] > widths_[wide]) wide = w;
  }
  if (wide == none) return verdict;
  const std::size_t take = std::min(paces.max_batch(worker), queued);
  std::vector<TailPlanner::Available> peers;
  for (std::size_t w = 0; w < widths_.size(); ++w) {
    const TailPlanner::Pace& pace = paces.pace(w);
    if (w == worker || !budgeted(paces, w) || widths_[w] != mine || pace.seconds_per_item <= 0.0) continue;
    peers.push_back({.worker = w, .free_in = due_in(pace, now)});
  }
  const double own_done = own.seconds_per_item * static_cast<double>(take);
  const std::size_t rest = queued - take;
  const double with = rest == 0 || peers.empty() ? own_done + own.seconds_per_item * static_cast<double>(rest)
                                                 : std::max(own_done, paces.makespan(std::move(peers), rest).seconds);
  const double wide_done = last + paces.pace(wide).seconds_per_item * static_cast<double>(queued);
  // Looked at again when the busy ones are due: if they are late, this worker may be better off taking it.
  if (wide_done < with) return wait(wide, last);
  return verdict;
}

}  // namespace onnxpool::detail
