#pragma once
// The dynamic policy's choice of width, as a pure planner beside the TailPlanner (whose paces and busy
// states it reads): workers may have a width, the cores they keep busy while they run, and share a
// budget of cores. A worker runs only while its width fits in the cores the busy ones leave, and the
// queue's next items go to the width that suits how many are queued:
//  - enough items to fill the free cores with the narrowest workers: the narrowest (each item on its own
//    core, no intra-op synchronisation: the most items per second);
//  - fewer: the widest worker that gives each queued item its share of the free cores (a lone item on
//    a free machine runs on a worker as wide as the machine: a single session's latency);
//  - near the end, a narrow worker free while its peers finish leaves the last items to a wider worker
//    when waiting for the cores and running them wide finishes sooner (3 items on 2 cores: two narrow,
//    then the third on both cores, not on one while the other idles);
//  - a run_all() caller (a guest, see scheduler.hpp) whose queued items the widest worker would finish
//    within kGuestGrain runs them all there itself (in one stacked run where stacking has paid on that
//    worker, batch_learner.hpp; else one after another): waking other threads for so
//    little work costs about what it gains (on this project's 2-core VM a pass of a few 0.3 ms items
//    over two narrow workers took 0.5-1 ms more than their runs; docs/ROADMAP.md, issue 10).
// Why not ONNX Runtime's global thread pools (one set of threads shared by every session): measured on
// 2 cores, concurrent runs on them were slower than single-thread workers, and a lone run no faster
// (docs/ROADMAP.md, issue 10).
//
// Workers of width 0 (a GPU's feeder, or every worker of a pool without a budget) are outside the
// budget and never held back by it; so are workers whose on_start failed (they fail items at once).
// No mutex, threads or clock of its own: DynamicQueue calls it under its lock and passes `now`, so the
// decisions are tested from tables.
#include <cstddef>
#include <vector>

#include "onnxpool/scheduling/tail_planner.hpp"

namespace onnxpool::detail {

class WidthPlanner {
 public:
  using Clock = TailPlanner::Clock;
  // Seconds of work (queued items times the widest worker's pace) a guest keeps for itself.
  static constexpr double kGuestGrain = 2e-3;

  // One width per worker (cores it keeps busy while running; 0: outside the budget) and the budget.
  // With a budget of 0 the planner is inactive and every worker takes as the TailPlanner says. Throws
  // Error when a width exceeds a non-zero budget (that worker could never run).
  WidthPlanner(std::vector<std::size_t> widths, std::size_t cores);

  [[nodiscard]] bool active() const noexcept { return cores_ > 0; }

  // The budget's cores not held by busy workers.
  [[nodiscard]] std::size_t free_cores(const TailPlanner& paces) const;
  // The width the next of `queued` (> 0) items should run at, among the free workers (not busy) of the
  // budget that fit in the free cores; 0 when none fits. `guest`: asked for a run_all() caller.
  [[nodiscard]] std::size_t pick(const TailPlanner& paces, std::size_t queued, bool guest = false) const;

  // Whether the free `worker` may take from `queued` (> 0) items at `now`: `take` false leaves them to
  // `better` (worker_count() when it is none in particular: a busy worker's end will decide) and looks
  // again at `recheck`. Workers outside the budget always may.
  struct Verdict {
    bool take = true;
    std::size_t better = 0;
    Clock::time_point recheck{};
  };
  [[nodiscard]] Verdict decide(std::size_t worker, const TailPlanner& paces, Clock::time_point now, std::size_t queued,
                               bool guest = false) const;

  // Calls wake(worker) for each waiting worker that should look at `queued` items now: as many of the
  // picked width as the queue and the free cores can use. Allocates nothing (called on every push).
  template <class Wake>
  void for_each_to_wake(const TailPlanner& paces, std::size_t queued, Wake&& wake) const {
    if (!active() || queued == 0) return;
    const std::size_t width = pick(paces, queued);
    if (width == 0) return;
    std::size_t room = free_cores(paces) / width;
    for (std::size_t w = 0; w < widths_.size() && room > 0 && queued > 0; ++w) {
      const TailPlanner::Pace& pace = paces.pace(w);
      if (widths_[w] != width || pace.busy || pace.start_failed || !pace.waiting) continue;
      wake(w);
      --room;
      --queued;
    }
  }

 private:
  // In the budget and able to run its items (on_start did not fail).
  [[nodiscard]] bool budgeted(const TailPlanner& paces, std::size_t worker) const;

  std::vector<std::size_t> widths_;
  std::size_t cores_;
};

}  // namespace onnxpool::detail
