#pragma once
// Pool: workers (one ONNX Runtime session each, bound to a device) fed by the scheduler. CPU workers
// get the machine's cores partitioned between them: W workers x T intra-op threads, spinning off when
// several share the machine, optionally pinned to disjoint cores.
//
// Items reach it three ways, all through the same workers and scheduler:
//  - submit(item) / run_all(items): the pool owns the items;
//  - run(span): items the caller keeps (nothing copied: what the benchmark times is what users run);
//  - prepare(span) then run(prepared): the tutorial's OrtValue path, inputs made resident and outputs
//    allocated before the timed run.
#include <cstddef>
#include <filesystem>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "onnxpool/pool/pool_config.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/prepared_item.hpp"
#include "onnxpool/runtime/worker_plan.hpp"
#include "onnxpool/scheduling/scheduler.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class Runtime;
class Worker;

// The automatic choice when neither workers nor threads are given: throughput first, as OpenVINO's
// throughput mode does with streams. One single-thread worker per core up to 8 cores (no intra-op
// synchronisation at all, each core runs whole items), 2-thread workers up to 32 cores, then 4-thread
// workers, so very wide machines don't hold dozens of copies of the activations.
int automatic_threads_per_worker(int cores);

// The one place a configuration becomes workers: one plan per worker, in order (pure: used by the pool,
// by `run` to print, and by tests). Throws Error for what config.validate() refuses.
std::vector<WorkerPlan> plan_workers(const PoolConfig& config, const CpuTopology& cpu);
// The cores the plans' widths share: the widest plan's width (0: no budget, every worker runs freely).
std::size_t core_budget(const std::vector<WorkerPlan>& plans);

// What a pool item is to the scheduler: inputs it owns (submit, run_all) or borrows (run), or an item
// prepared for one worker; and where its service time goes when the caller asked for it.
struct PoolItem;

class Pool {
 public:
  // Plans the workers, refuses a batch > 1 on a model without a symbolic batch dim before making any
  // session, creates every worker's session (sequentially, so a failure names its worker; several CPU
  // workers share one copy of the weights) and starts the scheduler. `label`, when given, prefixes the
  // workers' names ("pool:cpu#0").
  Pool(Runtime& runtime, const std::filesystem::path& model, const PoolConfig& config, const std::string& label = "");
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  Pool(Pool&&) = delete;
  Pool& operator=(Pool&&) = delete;

  [[nodiscard]] std::future<TensorSet> submit(TensorSet inputs);
  // Runs every item; outputs in input order. Throws RunError naming each failed item and its worker.
  std::vector<TensorSet> run_all(std::vector<TensorSet> items);
  // The same over items the caller keeps (they must outlive the call). `service_seconds`, when not empty
  // (one per item), receives each item's time in the session run that computed it (a stacked batch's
  // run for each of its items): latency without the queueing of items submitted at once.
  std::vector<TensorSet> run(std::span<const TensorSet> items, std::span<double> service_seconds = {});

  // The untimed half of the OrtValue path: item i made ready for the worker the static split gives it
  // (i mod W). The items must outlive the prepared ones.
  std::vector<PreparedItem> prepare(std::span<const TensorSet> items);
  // The timed half: runs prepared items into their own outputs (PreparedItem::outputs()). An item whose
  // inputs live in a GPU's memory fails on any worker but its own: prepare for a static pool when
  // workers are GPUs.
  void run(std::span<PreparedItem> items, std::span<double> service_seconds = {});

  [[nodiscard]] const std::vector<WorkerPlan>& plan() const { return plan_; }
  [[nodiscard]] std::vector<WorkerStats> stats() const;
  void reset_stats();
  [[nodiscard]] std::size_t size() const { return plan_.size(); }
  [[nodiscard]] Policy policy() const;
  // The largest batch the workers of an adaptive pool try, learning from their runs which size runs
  // items fastest (scheduling/batch_learner.hpp); 0 when the workers' batches are fixed (the plan's).
  [[nodiscard]] std::size_t learnt_batch_cap() const { return learnt_batch_cap_; }
  [[nodiscard]] const std::vector<std::string>& output_names() const;

 private:
  std::vector<TensorSet> run_items(std::vector<PoolItem> items);

  std::vector<WorkerPlan> plan_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t learnt_batch_cap_ = 0;
  std::unique_ptr<Scheduler<PoolItem, TensorSet>> scheduler_;  // after workers_: stops first
};

}  // namespace onnxpool
