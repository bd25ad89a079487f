#pragma once
// What a scheduler's worker is (WorkerSlot: a name, a batch limit and a function that runs a batch) and
// what it has done (WorkerStats).
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace onnxpool {

template <class Item, class Result>
struct WorkerSlot {
  std::string name;           // e.g. "cpu#1"; appears in error messages
  std::size_t max_batch = 1;  // at most this many items handed to `run` at once
  // Cores it keeps busy while it runs, out of the scheduler's budget (dynamic policy with a budget: see
  // width_planner.hpp); 0: outside the budget, never held back by it.
  std::size_t width = 0;
  // `run` may also be called on the thread of a run_all() caller, as this worker's guest while its own
  // thread is idle (never both at once), without on_start: for workers whose run does not depend on the
  // thread (not pinned, or pinned only to place its threads apart, as the adaptive pool's wide worker).
  // The caller then runs items itself instead of waiting for them.
  bool caller_may_run = false;
  // Dynamic policy: max_batch is a cap under which the batch size is learnt from the worker's runs (the
  // power of two that runs items fastest, batch_learner.hpp); false: batches of up to max_batch, fixed.
  bool learn_batch = false;
  // With learn_batch: the runs at a new batch size whose time is not yet the size's (a runtime that
  // plans its memory per shape pays its first runs there), which learning leaves out.
  std::size_t warmup_runs = 1;
  // Dynamic policy: after a batch, with nothing queued, the worker's thread polls the queue this long
  // (yielding its core at every look) before it sleeps, so that an item submitted meanwhile starts
  // without a thread wake-up. For a worker that serves a trickle of items, as a session's own threads
  // spin between runs; 0: it sleeps at once.
  std::chrono::microseconds idle_poll{0};
  std::function<void()> on_start;  // optional; runs once on the worker's own thread before any item
  // Runs a batch (1..max_batch items, in submission order) and returns exactly one Result per item, in
  // the same order. The batch is passed by reference and must be left intact (not moved from): if `run`
  // throws or returns the wrong number of results for a batch of several items, the scheduler retries
  // those same items one by one.
  std::function<std::vector<Result>(std::vector<Item>& batch)> run;
};

struct WorkerStats {
  std::string name;
  std::size_t items = 0;      // items completed on this worker, successes and failures
  std::size_t runs = 0;       // calls to `run`, retries of a failed batch's items included
  std::size_t failures = 0;   // items that failed
  double busy_seconds = 0.0;  // steady_clock time spent inside `run`
  // Summed over this worker's items: how long each waited queued, from its submission to the start of
  // the run that took it (Triton's "queue" time). Divided by items: the mean wait.
  double queue_seconds = 0.0;
};

namespace detail {
// Throw Error when the slots cannot make a scheduler: none at all, or a slot (named by its position and
// name) without a run function or with max_batch 0.
void require_workers(std::size_t count);
void require_valid_slot(std::size_t position, const std::string& name, bool has_run, std::size_t max_batch);

template <class Item, class Result>
void require_valid_slots(const std::vector<WorkerSlot<Item, Result>>& slots) {
  require_workers(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    require_valid_slot(i, slots[i].name, static_cast<bool>(slots[i].run), slots[i].max_batch);
  }
}
}  // namespace detail

}  // namespace onnxpool
