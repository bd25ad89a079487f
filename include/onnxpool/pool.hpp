#pragma once
// Pool: workers (one ONNX Runtime session each, bound to a device) fed by the scheduler. CPU workers
// get the machine's cores partitioned between them: W workers x T intra-op threads, spinning off when
// several share the machine, optionally pinned to disjoint cores.
#include <cstddef>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "onnxpool/cpu.hpp"
#include "onnxpool/device.hpp"
#include "onnxpool/scheduler.hpp"
#include "onnxpool/tensor.hpp"

namespace onnxpool {

class Runtime;
class Worker;

struct PoolOptions {
  std::vector<DeviceSpec> devices;  // explicit workers; empty: `workers` CPU workers
  int workers = 0;                  // CPU workers when `devices` is empty; 0: automatic
  int threads = 0;                  // intra-op threads per CPU worker; 0: the cores divided by the workers
  Policy policy = Policy::Dynamic;
  std::size_t batch = 1;         // items a worker takes at once, stacked along the batch dim
  bool pin = false;              // pin each CPU worker (and its threads) to its own cores
  std::optional<bool> spinning;  // default: on for a single worker, off when workers share cores
  bool ort_defaults = false;     // sessions at ONNX Runtime's default threading (the tutorial's)
  // Several CPU workers hold the model's weights once (see shared_weights.hpp) instead of once each.
  // Not with ort_defaults: the tutorial's sessions stay as it made them.
  bool share_weights = true;
};

// What one worker of the pool is: its name ("cpu#0"), device, threads and cores.
struct WorkerPlan {
  std::string name;
  DeviceSpec device;
  int threads = 0;         // 0 with ort_defaults: ONNX Runtime decides
  std::vector<int> cores;  // pinned cores; empty when not pinned
  bool spinning = false;
};

// The items this worker takes at once: its device's @BATCH, else the pool's batch.
[[nodiscard]] inline std::size_t worker_batch(const WorkerPlan& plan, std::size_t pool_batch) {
  return plan.device.batch > 0 ? static_cast<std::size_t>(plan.device.batch) : pool_batch;
}

// The automatic choice when neither workers nor threads are given: throughput first, as OpenVINO's
// throughput mode does with streams. One single-thread worker per core up to 8 cores (no intra-op
// synchronisation at all, each core runs whole items), 2-thread workers up to 32 cores, then 4-thread
// workers, so very wide machines don't hold dozens of copies of the activations.
int automatic_threads_per_worker(int cores);

// Turns options into one plan per worker (pure: used by the pool, by `run` to print, and by tests).
// Throws Error for impossible requests (workers < 0, threads < 0, batch 0).
std::vector<WorkerPlan> plan_workers(const PoolOptions& options, const CpuTopology& cpu);

// Makes one worker per plan, in order (so a failure names its worker), with the threading the plan says;
// several CPU workers share one copy of the weights when options.share_weights. Names are
// name_prefix + the plan's name. Used by Pool and by the benchmark's strategies.
std::vector<std::unique_ptr<Worker>> make_workers(Runtime& runtime, const std::filesystem::path& model,
                                                  const PoolOptions& options, const std::vector<WorkerPlan>& plans,
                                                  const std::string& name_prefix = "");

class Pool {
 public:
  // Creates every worker's session (sequentially, so a failure names its worker) and starts the
  // scheduler. Throws Error for a batch > 1 on a model without a symbolic batch dim.
  Pool(Runtime& runtime, const std::filesystem::path& model, const PoolOptions& options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  [[nodiscard]] std::future<TensorSet> submit(TensorSet inputs);
  // Runs every item; outputs in input order. Throws RunError naming each failed item and its worker.
  std::vector<TensorSet> run_all(std::vector<TensorSet> items);

  [[nodiscard]] const std::vector<WorkerPlan>& plan() const { return plan_; }
  [[nodiscard]] std::vector<WorkerStats> stats() const;
  void reset_stats();
  [[nodiscard]] std::size_t size() const { return plan_.size(); }
  [[nodiscard]] Worker& worker(std::size_t i) { return *workers_.at(i); }
  [[nodiscard]] Policy policy() const;

 private:
  std::vector<WorkerPlan> plan_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Scheduler<TensorSet, TensorSet>> scheduler_;  // after workers_: stops first
};

}  // namespace onnxpool
