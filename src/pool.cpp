#include "onnxpool/pool.hpp"

#include <optional>

#include <fmt/format.h>

#include "onnxpool/gpu.hpp"
#include "onnxpool/model.hpp"
#include "onnxpool/runtime.hpp"
#include "onnxpool/shared_weights.hpp"
#include "onnxpool/worker.hpp"
#include "scratch_dir.hpp"

namespace onnxpool {

int automatic_threads_per_worker(int cores) {
  if (cores <= 8) return 1;
  return cores <= 32 ? 2 : 4;
}

std::vector<WorkerPlan> plan_workers(const PoolOptions& options, const CpuTopology& cpu) {
  if (options.workers < 0) throw Error(fmt::format("--workers must be >= 1, not {}", options.workers));
  if (options.threads < 0) throw Error(fmt::format("--threads must be >= 1, not {}", options.threads));
  if (options.batch == 0) throw Error("--batch must be >= 1");
  const int cores = cpu.logical_count();

  // Expand the device list (or the plain worker count) into one spec per worker.
  std::vector<DeviceSpec> specs;
  if (options.devices.empty()) {
    int workers = options.workers;
    if (workers == 0) {
      const int threads = options.threads > 0 ? options.threads : automatic_threads_per_worker(cores);
      workers = std::max(1, cores / threads);
    }
    specs.assign(static_cast<std::size_t>(workers), DeviceSpec{.kind = DeviceKind::Cpu, .threads = options.threads});
  } else {
    for (const auto& spec : options.devices) {
      for (int i = 0; i < spec.count; ++i) {
        DeviceSpec one = spec;
        one.count = 1;
        if (one.kind == DeviceKind::Cpu && one.threads == 0) one.threads = options.threads;
        specs.push_back(one);
      }
    }
  }
  const int cpu_workers = static_cast<int>(
      std::count_if(specs.begin(), specs.end(), [](const auto& s) { return s.kind == DeviceKind::Cpu; }));
  // Each CUDA worker's thread launches its kernels and copies: it keeps a core of its own, or CPU
  // workers' intra-op threads on every core would make the GPU wait for its feeder.
  const int cuda_workers = static_cast<int>(specs.size()) - cpu_workers;
  const int cpu_cores = cores > cuda_workers ? cores - cuda_workers : cores;
  const int default_threads = std::max(1, cpu_cores / std::max(1, cpu_workers));
  const bool spinning = options.spinning.value_or(specs.size() == 1);

  std::vector<WorkerPlan> plans;
  int cpu_index = 0;
  int cuda_seen = 0;
  std::size_t next_core = 0;
  for (const auto& spec : specs) {
    WorkerPlan plan;
    plan.device = spec;
    if (spec.kind == DeviceKind::Cpu) {
      plan.name = fmt::format("cpu#{}", cpu_index++);
      plan.threads = options.ort_defaults ? 0 : (spec.threads > 0 ? spec.threads : default_threads);
      plan.device.threads = plan.threads;
      plan.spinning = spinning;
      if (options.pin && !options.ort_defaults) {
        // Consecutive, disjoint groups while the cores last; then they wrap and share.
        for (int t = 0; t < plan.threads; ++t) plan.cores.push_back(cpu.logical[next_core++ % cpu.logical.size()]);
        std::sort(plan.cores.begin(), plan.cores.end());
        plan.cores.erase(std::unique(plan.cores.begin(), plan.cores.end()), plan.cores.end());
      }
    } else {
      plan.name = fmt::format("cuda{}#{}", spec.index, cuda_seen++);
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::vector<std::unique_ptr<Worker>> make_workers(Runtime& runtime, const std::filesystem::path& model,
                                                  const PoolOptions& options, const std::vector<WorkerPlan>& plans,
                                                  const std::string& name_prefix) {
  check_model_file(model);
  const auto cpu_workers =
      std::count_if(plans.begin(), plans.end(), [](const auto& p) { return p.device.kind == DeviceKind::Cpu; });
  // The optimised model lives in a scratch folder only while the sessions are made from it.
  std::optional<ScratchDir> scratch;
  std::shared_ptr<const SharedWeights> shared;
  if (options.share_weights && !options.ort_defaults && cpu_workers > 1) {
    scratch.emplace();
    shared = std::make_shared<SharedWeights>(runtime, model, scratch->path() / "optimized.onnx");
  }
  // The GPU probe (driver, devices, provider library) is done once for all the pool's CUDA workers.
  std::shared_ptr<const GpuSupport> gpu;
  if (std::any_of(plans.begin(), plans.end(), [](const auto& p) { return p.device.kind == DeviceKind::Cuda; })) {
    gpu = std::make_shared<const GpuSupport>(probe_gpu());
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (const auto& plan : plans) {
    WorkerOptions worker;
    worker.device = plan.device;
    worker.ort_defaults = options.ort_defaults;
    worker.intra_op_threads = std::max(1, plan.threads);
    worker.allow_spinning = plan.spinning;
    worker.cores = plan.cores;
    worker.share_prepacked_weights = options.share_weights;
    if (plan.device.kind == DeviceKind::Cpu) worker.shared_weights = shared;
    if (plan.device.kind == DeviceKind::Cuda) worker.gpu = gpu;
    workers.push_back(std::make_unique<Worker>(runtime, model, worker, name_prefix + plan.name));
  }
  return workers;
}

namespace {

// The workers' plan, after refusing a batch > 1 on a model that cannot stack items: before any session
// is made, since making them (and the shared weights) is the expensive part of a pool.
std::vector<WorkerPlan> checked_plan(Runtime& runtime, const std::filesystem::path& model, const PoolOptions& options) {
  auto plans = plan_workers(options, CpuTopology::detect());
  std::size_t largest = 1;
  for (const auto& plan : plans) largest = std::max(largest, worker_batch(plan, options.batch));
  if (largest > 1 && !inspect_model(runtime, model).batchable()) {
    throw Error(
        fmt::format("{}: batch {} needs a model whose inputs and outputs all have a symbolic first (batch) "
                    "dim; this one does not",
                    model.filename().string(), largest));
  }
  return plans;
}

}  // namespace

Pool::Pool(Runtime& runtime, const std::filesystem::path& model, const PoolOptions& options)
    : plan_(checked_plan(runtime, model, options)), workers_(make_workers(runtime, model, options, plan_)) {
  std::vector<WorkerSlot<TensorSet, TensorSet>> slots;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    slots.push_back({.name = w->name(),
                     .max_batch = worker_batch(plan_[i], options.batch),
                     .on_start = [w] { w->bind_current_thread(); },
                     .run =
                         [w](std::vector<TensorSet>& batch) {
                           std::vector<const TensorSet*> items;
                           items.reserve(batch.size());
                           for (const auto& item : batch) items.push_back(&item);
                           return w->run_batch(items);  // one item: a plain run, nothing stacked
                         }});
  }
  scheduler_ = std::make_unique<Scheduler<TensorSet, TensorSet>>(std::move(slots), options.policy);
}

Pool::~Pool() = default;

std::future<TensorSet> Pool::submit(TensorSet inputs) {
  return scheduler_->submit(std::move(inputs));
}

std::vector<TensorSet> Pool::run_all(std::vector<TensorSet> items) {
  return scheduler_->run_all(std::move(items));
}

std::vector<WorkerStats> Pool::stats() const {
  return scheduler_->stats();
}

void Pool::reset_stats() {
  scheduler_->reset_stats();
}

Policy Pool::policy() const {
  return scheduler_->policy();
}

}  // namespace onnxpool
