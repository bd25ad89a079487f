#pragma once
// The dynamic policy's batch size for workers whose max_batch is a cap to learn under
// (WorkerSlot::learn_batch), as a pure planner beside the TailPlanner: from the workers' runs it learns
// the seconds per item at each power-of-two batch size up to the cap, and a worker takes the size that
// ran items fastest. Whether stacking items pays depends on the model and the machine: on this
// project's 2-core VM a GPT-2-style model ran 2 items stacked 1.2-1.4x faster than one by one while
// MobileNetV2 ran 0.9x (docs/ROADMAP.md, issue 10), so it is measured, never assumed.
//
// Who learns together: workers alike (the same group, cap and warm-up: the adaptive pool's narrow
// workers, of one width) share what they learn, so a size is tried on one of them, not on each.
//
// How it learns: sizes are tried upward from 1, each next size as long as the last was faster per item
// (by 3% at least: kGain). A worker's first runs at a size are a warm-up, not counted: ONNX Runtime
// plans memory for a new shape on the first run and, with the memory pattern on, again on the second
// (a GPT-2-tiny pass of 2 stacked items: 0.42, 0.45, then 0.32 ms an item; WorkerSlot::warmup_runs).
// Trying a size costs those warm-ups (a MobileNetV2 item 12.8 ms instead of 9.3 on one thread), so
// stacking is first tried (by 2) only once the group has run kAmortize * 2 items one by one since its
// last try: what trying costs stays a small share of the work, and a short job never pays it. Once a
// size has paid, the next is tried at once: its gain is then likely to repay the warm-up within a few
// runs (on GPT-2-tiny, waiting as long before each climb kept passes of 6-18 items at 0.63-0.9x the
// best other for 20 passes). One worker of the group tries a size (the others join only if it is slow
// to); one that has begun goes on until the size is measured (else its warm-up was for nothing).
//
// Retries: kRetry batches after a climb (won or lost) and then after each retry, a run tries a
// neighbour of the best (up, then down), whose old average that run replaces, so a size that lost to
// noise or to a different load gets another chance; each retry that confirms the best doubles that
// interval, up to kRetryMax. A retry goes to a worker of the group already warm at that size, so it
// costs no more than the two sizes' difference over one batch. Why soon: a job's first stacked runs
// come when it begins, which on this VM is when passes ran 1.2-1.6x slower (after an idle spell), while
// the best's average came from the end of the job before; GPT-2-tiny passes of 2 items, 200 of them:
// the climb to 2 lost, and the retry came 32 passes later (the interval begun in the job before had
// run out, and the climb counted as a retry that confirmed the best): mean passes 0.442-0.458 ms in 3
// runs; retried after kRetry = 8 batches: 0.434-0.452 (stacked throughout: about 0.43).
// Sizes are powers of two, so a session sees few distinct shapes.
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
  // Batches at the best size before a neighbouring size is tried again; doubled by each retry that
  // confirms the best, up to kRetryMax.
  static constexpr std::size_t kRetry = 8;
  static constexpr std::size_t kRetryMax = 1024;
  // A larger size is the best only when its seconds per item are below this share of a smaller one's.
  static constexpr double kGain = 0.97;
  // Stacking is first tried after kAmortize * 2 items one by one since the last try.
  static constexpr std::size_t kAmortize = 8;

  // One entry per worker: its max_batch, and whether it learns under it (when not, it always takes up
  // to its max_batch, as a fixed batch). `groups` (empty: each worker alone): workers of one group, cap
  // and warm-up learn together. `warmups` (empty: 1 each): runs of a worker at a size before its times
  // count.
  BatchLearner(std::vector<std::size_t> caps, std::vector<bool> learning, const std::vector<std::size_t>& groups = {},
               std::vector<std::size_t> warmups = {});

  [[nodiscard]] bool learning(std::size_t worker) const { return table_[worker] != kNone; }
  // The most items `worker` should take now of `queued`, when `sharing` (>= 1) workers like it, itself
  // included, share the queue. `whole`: the worker is to run all `queued` (a run_all() caller keeping a
  // small job, width_planner.hpp): once stacking has paid on it, all of them in one run (up to its cap),
  // as a single session given the whole job stacked would.
  [[nodiscard]] std::size_t size(std::size_t worker, std::size_t queued, std::size_t sharing, bool whole = false) const;
  // `worker` ran a batch of `items` in `seconds`.
  void learn(std::size_t worker, std::size_t items, double seconds);
  // The size `worker` runs items fastest at, as learnt so far (1 before anything is measured).
  [[nodiscard]] std::size_t best(std::size_t worker) const;

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  // What a group has learnt.
  struct Sizes {
    std::vector<double> per_item;      // per power of two (index k: 2^k items), moving average
    std::vector<std::size_t> counted;  // runs counted at that size (past their worker's warm-up)
    std::vector<bool> stale;           // older than the last retry interval: its next run replaces it
    std::size_t since_try = 0;         // batches at the best size since a neighbour was last tried
    std::size_t retry_every = kRetry;  // batches at the best between tries of a neighbour
    std::size_t since_climb = 0;       // items run at the best since a new size was last tried
    std::size_t climber = kNone;       // the worker warming up to try a new size, if any
    bool try_up = true;                // the next neighbour tried: the size above, else below
  };
  // Two counted runs, not one: a run of a fraction of a millisecond may be preempted (on this VM a
  // GPT-2-tiny pass of 2 stacked items ran in 0.51 ms once, 0.41-0.43 after), and one slow sample
  // would end a climb that pays.
  static constexpr std::size_t kMeasuredRuns = 2;
  [[nodiscard]] static bool measured(const Sizes& sizes, std::size_t k) { return sizes.counted[k] >= kMeasuredRuns; }
  [[nodiscard]] static std::size_t best_index(const Sizes& sizes);
  // Whether `worker`'s next run at size 2^k counts (its warm-up there is behind it); whether that holds
  // for any worker of its group.
  [[nodiscard]] bool warm(std::size_t worker, std::size_t k) const;
  [[nodiscard]] bool group_warm(std::size_t worker, std::size_t k) const;

  std::vector<std::size_t> caps_;
  std::vector<std::size_t> warmups_;
  std::vector<std::size_t> table_;              // the worker's group's entry in tables_; kNone: not learning
  std::vector<std::vector<std::size_t>> runs_;  // per worker and size: its runs there, warm-ups included
  std::vector<Sizes> tables_;
};

}  // namespace onnxpool::detail
