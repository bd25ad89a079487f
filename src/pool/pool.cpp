#include "onnxpool/pool/pool.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "common/scratch_dir.hpp"
#include "onnxpool/runtime/gpu.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/shared_weights.hpp"
#include "onnxpool/runtime/worker.hpp"

namespace onnxpool {

void PoolConfig::validate() const {
  if (workers < 0)
    throw ConfigError("workers", std::to_string(workers), fmt::format("workers must be >= 1, not {}", workers));
  if (threads < 0)
    throw ConfigError("threads", std::to_string(threads), fmt::format("threads must be >= 1, not {}", threads));
  if (batch == 0) throw ConfigError("batch", "0", "batch must be >= 1");
  if (!devices.empty() && workers > 0) {
    throw ConfigError("workers", std::to_string(workers),
                      "workers cannot be given beside devices: the device list says how many (cpu*W)");
  }
}

void PoolConfig::check_for(const ModelInfo& model) const {
  validate();
  std::size_t largest = batch;
  for (const auto& device : devices) largest = std::max(largest, static_cast<std::size_t>(std::max(device.batch, 0)));
  if (largest > 1 && !model.batchable()) {
    throw ConfigError("batch", std::to_string(largest),
                      fmt::format("{}: batch {} needs a model whose inputs and outputs all have a symbolic first "
                                  "(batch) dim; this one does not",
                                  model.path.filename().string(), largest));
  }
}

int automatic_threads_per_worker(int cores) {
  if (cores <= 8) return 1;
  return cores <= 32 ? 2 : 4;
}

namespace {

// The CPU workers of a pool given as a count (config.devices empty): `workers`, or automatic for the
// cores, then no more than the known items can keep busy.
long long counted_workers(const PoolConfig& config, int cores) {
  long long workers = config.workers;
  if (workers == 0) {
    const int threads = config.threads > 0 ? config.threads : automatic_threads_per_worker(cores);
    workers = std::max(1, cores / threads);
  }
  if (config.items > 0) {
    const auto needed = static_cast<long long>((config.items + config.batch - 1) / config.batch);
    workers = std::min(workers, needed);
  }
  return workers;
}

// Whether plan_workers adds the adaptive wide worker (PoolConfig::adaptive) beside `cpu_workers` narrow
// ones of `threads` threads each on `cores` cores.
bool adds_wide_worker(const PoolConfig& config, int cpu_workers, int threads, int cores) {
  return config.adaptive && config.devices.empty() && config.workers == 0 && config.threads == 0 && config.batch == 1 &&
         config.policy == Policy::Dynamic && !config.pin && !config.ort_defaults && cpu_workers > 1 && threads < cores;
}

}  // namespace

void PoolConfig::check_machine(const CpuTopology& cpu) const {
  validate();
  const int cores = std::max(1, cpu.usable_count());
  // ONNX Runtime's default width: one intra-op thread per physical core.
  const long long default_width = cpu.physical_cores > 0 ? cpu.physical_cores : cores;
  long long total_workers = 0;
  long long total_threads = 0;
  std::string blame;  // the field whose value made the count
  std::string value;
  if (devices.empty()) {
    total_workers = counted_workers(*this, cores);
    // Without threads given, the cores are divided between the workers: one thread each at least.
    const long long each = ort_defaults ? default_width : std::max(1, this->threads);
    total_threads = total_workers * each;
    // The flag to blame: the worker count when it alone is too many, else the threads given.
    const bool workers_alone = this->workers > 0 && total_workers > kMaxThreadsPerCore * static_cast<long long>(cores);
    blame = workers_alone || this->threads == 0 ? "workers" : "threads";
    value = std::to_string(blame == "threads" ? this->threads : (this->workers > 0 ? this->workers : total_workers));
  } else {
    // Counts first (each below 2^31, summed in 64 bits), so that no product below can overflow.
    for (const auto& spec : devices) total_workers += std::max(0, spec.count);
    if (total_workers <= kMaxWorkers) {
      for (const auto& spec : devices) {
        const long long each = spec.kind != DeviceKind::Cpu ? 1
                               : ort_defaults               ? default_width
                                                            : std::max({1, spec.threads, this->threads});
        total_threads += std::max(0, spec.count) * each;
      }
    }
    blame = "devices";
    for (const auto& spec : devices) value += (value.empty() ? "" : ",") + spec.to_string();
  }
  if (total_workers > kMaxWorkers) {
    throw ConfigError(blame, value,
                      fmt::format("{} workers is more than any pool may have ({})", total_workers, kMaxWorkers));
  }
  const long long limit = static_cast<long long>(kMaxThreadsPerCore) * cores;
  if (total_threads > limit && !oversubscribe) {
    throw ConfigError(blame, value,
                      fmt::format("{} worker{}{} would start {} threads on {} core{}: more than this machine can "
                                  "serve (at most {} per core, {})",
                                  total_workers, total_workers == 1 ? "" : "s",
                                  devices.empty() && workers > total_workers ? " (one per item)" : "", total_threads,
                                  cores, cores == 1 ? "" : "s", kMaxThreadsPerCore, limit),
                      "oversubscribe");
  }
}

namespace {
// The next `count` cores of `order` from `next` on (advanced past them), sorted and distinct: consecutive,
// disjoint groups while the cores last; then they wrap and share. None when `order` is empty.
std::vector<int> next_cores(const std::vector<int>& order, std::size_t& next, int count) {
  std::vector<int> cores;
  if (order.empty()) return cores;
  for (int t = 0; t < count; ++t) cores.push_back(order[next++ % order.size()]);
  std::sort(cores.begin(), cores.end());
  cores.erase(std::unique(cores.begin(), cores.end()), cores.end());
  return cores;
}
}  // namespace

std::vector<WorkerPlan> plan_workers(const PoolConfig& config, const CpuTopology& cpu) {
  config.check_machine(cpu);
  const int cores = cpu.usable_count();

  // Expand the device list (or the plain worker count) into one spec per worker.
  std::vector<DeviceSpec> specs;
  if (config.devices.empty()) {
    const auto workers = static_cast<std::size_t>(counted_workers(config, std::max(1, cores)));
    specs.assign(workers, DeviceSpec{.kind = DeviceKind::Cpu, .threads = config.threads});
  } else {
    for (const auto& spec : config.devices) {
      for (int i = 0; i < spec.count; ++i) {
        DeviceSpec one = spec;
        one.count = 1;
        if (one.kind == DeviceKind::Cpu && one.threads == 0) one.threads = config.threads;
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
  const bool spinning = config.spinning.value_or(specs.size() == 1);
  const bool wide = adds_wide_worker(config, cpu_workers, default_threads, cpu_cores);

  std::vector<WorkerPlan> plans;
  int cpu_index = 0;
  int cuda_seen = 0;
  std::size_t next_core = 0;
  for (const auto& spec : specs) {
    WorkerPlan plan;
    plan.device = spec;
    // The device's @BATCH, else the pool's.
    plan.batch = spec.batch > 0 ? static_cast<std::size_t>(spec.batch) : config.batch;
    plan.ort_defaults = config.ort_defaults;
    plan.share_prepacked_weights = config.share_weights;
    if (spec.kind == DeviceKind::Cpu) {
      plan.name = fmt::format("cpu#{}", cpu_index++);
      plan.threads = config.ort_defaults ? 0 : (spec.threads > 0 ? spec.threads : default_threads);
      plan.device.threads = plan.threads;
      plan.spinning = spinning;
      if (wide) plan.width = static_cast<std::size_t>(plan.threads);
      if (config.pin && !config.ort_defaults) plan.cores = next_cores(cpu.logical, next_core, plan.threads);
    } else {
      plan.name = fmt::format("cuda{}#{}", spec.index, cuda_seen++);
      plan.threads = 1;  // the session's CPU side: its feeding thread
    }
    plans.push_back(std::move(plan));
  }
  if (wide) {
    // Beside the narrow workers: one as wide as their cores, for items too few to keep them all busy:
    // a single default session's threading, spinning included (ONNX Runtime's threads spin some 40 ms
    // of a core after a run before they block). Measured on 2 cores (docs/ROADMAP.md, issue 10): threads
    // that block sooner are woken at every operator of the next item, and items arriving 20 ms apart
    // lose what a single session gains from spinning through the gaps. MobileNetV2 with threads that
    // stop when the run returns (session.force_spinning_stop): 9.0 ms an item against 5.0; spinning
    // 1 ms: 12.0 ms; 5 ms: 5.2 (but GPT-2-tiny 1.35x a session's latency); the default: 0.99x and 1.09x.
    // The price: a burst that follows a lone item within those 40 ms shares a core with the spin.
    WorkerPlan plan = plans.front();
    plan.name = fmt::format("cpu#{}", cpu_index);
    plan.threads = cpu_cores;
    plan.device.threads = cpu_cores;
    plan.spinning = true;
    plan.width = static_cast<std::size_t>(cpu_cores);
    // Also as a default session: the memory pattern on, and its threads pinned one per core (ONNX
    // Runtime pins a default session's pool threads so; this worker's own thread takes the first core).
    // Without the memory pattern a GPT-2-tiny item took 0.253 ms against a default session's 0.236; with
    // its threads free, the second shared the first one's core in some processes (a pass at N=1: 3,900
    // items/s in some, 2,600 in others). Its intra-op threads give way (yielding_threads.hpp): spinning
    // after the last of a few items, they took a narrow worker's core from the burst that followed (a
    // job of 3 MobileNetV2 items: 23 ms a pass at the normal priority, 14 ms at a lower one; GPT-2-tiny
    // passes of 10 items: 3.0-3.5 ms at nice 19, which a woken narrow worker still queued behind,
    // 1.5 ms at the idle priority, as with no spinning at all). Measured on 2 cores (docs/ROADMAP.md).
    const auto& spread = cpu.spread.empty() ? cpu.logical : cpu.spread;
    plan.cores.assign(spread.begin(), spread.begin() + std::min<std::ptrdiff_t>(cpu_cores, std::ssize(spread)));
    // The narrow workers on cores of their own, in the same order, as many as their threads: left to
    // the kernel, two of them were at times placed on one core while the other ran nothing of the
    // pool's. ResNet18 passes of 2 items on 2 cores: 40 ms, and 57-73 ms in about one of ten (their
    // takes 0-4 ms apart, so it was not the scheduler); in the yardstick that made N=2 0.77-0.90x
    // `sequence` in 4 runs of 5. Pinned: 32 passes of 40.8-44.3 ms.
    std::size_t next = 0;
    for (auto& narrow_plan : plans) {
      if (narrow_plan.device.kind == DeviceKind::Cpu) narrow_plan.cores = next_cores(spread, next, narrow_plan.threads);
    }
    plan.memory_pattern = true;
    plan.give_way = true;
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::size_t core_budget(const std::vector<WorkerPlan>& plans) {
  std::size_t budget = 0;
  for (const auto& plan : plans) budget = std::max(budget, plan.width);
  return budget;
}

struct PoolItem {
  const TensorSet* borrowed = nullptr;  // run(span): the caller's
  std::optional<TensorSet> owned;       // submit, run_all: the pool's
  PreparedItem* prepared = nullptr;     // run(prepared): the caller's
  double* service_seconds = nullptr;    // where its run's seconds go; null: not asked

  [[nodiscard]] const TensorSet& inputs() const { return owned ? *owned : *borrowed; }
};

namespace {

using Clock = std::chrono::steady_clock;

// The largest batch an adaptive pool's worker tries (it learns which size pays, batch_learner.hpp). On
// this project's 2-core VM GPT-2-tiny's `bench --grid` peaked at 8 (2 workers x 1 thread: 6,930 items/s
// against 6,020 one by one); larger batches would hold more items on one worker at a run's tail.
constexpr std::size_t kLearntBatchCap = 8;
// How long the adaptive pool's wide worker polls for the next item after one (WorkerSlot::idle_poll):
// about as long as ONNX Runtime's pool threads spin after a run (some 40 ms), so that a trickle of
// submitted items (pool.submit) meets a worker awake, as a session's runs meet its threads spinning.
// GPT-2-tiny items 20 ms apart: submit().get() at 1.06x a session's p50 latency when the worker slept
// between them.
constexpr std::chrono::milliseconds kWideWorkerIdlePoll{40};

// Whether the items' inputs stack into one run (can_concat_first_dim, input by input).
bool stack_together(const std::vector<PoolItem>& batch) {
  const TensorSet& first = batch.front().inputs();
  std::vector<const Tensor*> parts;
  for (const NamedTensor& input : first) {
    parts.clear();
    for (const PoolItem& item : batch) {
      const TensorSet& inputs = item.inputs();
      if (inputs.size() != first.size()) return false;
      const auto same =
          std::find_if(inputs.begin(), inputs.end(), [&](const NamedTensor& t) { return t.name == input.name; });
      if (same == inputs.end()) return false;
      parts.push_back(&same->tensor);
    }
    if (!can_concat_first_dim(parts)) return false;
  }
  return true;
}

std::vector<WorkerPlan> checked_plan(Runtime& runtime, const std::filesystem::path& model, const PoolConfig& config,
                                     const std::string& label) {
  auto plans = plan_workers(config, CpuTopology::detect());
  // Before any session is made: making them (and the shared weights) is the expensive part of a pool.
  // The model is inspected only when a worker stacks items (inspecting loads it).
  check_model_file(model);
  if (std::any_of(plans.begin(), plans.end(), [](const WorkerPlan& p) { return p.batch > 1; })) {
    config.check_for(inspect_model(runtime, model));
  }
  if (!label.empty()) {
    for (auto& plan : plans) plan.name = label + ":" + plan.name;
  }
  return plans;
}

// One worker per plan, in order (so a failure names its worker); several CPU workers share one copy of
// the weights when the configuration says so, and the machine's GPUs are probed once for all.
std::vector<std::unique_ptr<Worker>> make_workers(Runtime& runtime, const std::filesystem::path& model,
                                                  const PoolConfig& config, const std::vector<WorkerPlan>& plans) {
  const auto cpu_workers =
      std::count_if(plans.begin(), plans.end(), [](const auto& p) { return p.device.kind == DeviceKind::Cpu; });
  // The optimised model lives in a scratch folder only while the sessions are made from it.
  std::optional<ScratchDir> scratch;
  WorkerResources cpu_resources;
  if (config.share_weights && !config.ort_defaults && cpu_workers > 1) {
    scratch.emplace();
    cpu_resources.shared_weights = std::make_shared<SharedWeights>(runtime, model, scratch->path() / "optimized.onnx");
  }
  WorkerResources cuda_resources;
  if (std::any_of(plans.begin(), plans.end(), [](const auto& p) { return p.device.kind == DeviceKind::Cuda; })) {
    cuda_resources.gpu = std::make_shared<const GpuSupport>(probe_gpu());
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (const auto& plan : plans) {
    const bool cpu = plan.device.kind == DeviceKind::Cpu;
    workers.push_back(std::make_unique<Worker>(runtime, model, plan, cpu ? cpu_resources : cuda_resources));
  }
  return workers;
}

// Runs one batch of pool items on a worker. Prepared items run one by one into their own outputs (they
// hold their inputs as values; the scheduler gives at most the worker's batch, 1 for the OrtValue path's
// pools); others run as one session run (stacked when several).
std::vector<TensorSet> run_on(Worker& worker, std::vector<PoolItem>& batch) {
  const bool timed = batch.front().service_seconds != nullptr;
  if (batch.front().prepared != nullptr) {
    std::vector<TensorSet> results(batch.size());
    for (PoolItem& item : batch) {
      PreparedItem& prepared = *item.prepared;
      if (prepared.inputs_on_device() && prepared.worker() != worker.name()) {
        throw Error(
            fmt::format("item prepared for worker {} holds its inputs in that worker's GPU memory", prepared.worker()));
      }
      const auto start = timed ? Clock::now() : Clock::time_point{};
      worker.run(prepared);
      if (timed) *item.service_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    }
    return results;
  }
  std::vector<const TensorSet*> inputs;
  inputs.reserve(batch.size());
  for (const PoolItem& item : batch) inputs.push_back(&item.inputs());
  const auto start = timed ? Clock::now() : Clock::time_point{};
  std::vector<TensorSet> results;
  if (batch.size() > 1 && !stack_together(batch)) {
    // Shapes that differ past the first dim cannot stack: one by one at once, rather than a stacked run
    // failing and the scheduler retrying each item.
    for (const TensorSet* item : inputs) results.push_back(worker.run(*item));
  } else {
    results = worker.run(inputs);  // one item: a plain run, nothing stacked
  }
  if (timed) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (PoolItem& item : batch) *item.service_seconds = seconds;
  }
  return results;
}

void check_timing_span(std::size_t items, std::span<double> service_seconds) {
  if (!service_seconds.empty() && service_seconds.size() != items) {
    throw Error(fmt::format("{} service times asked for {} items", service_seconds.size(), items));
  }
}

}  // namespace

Pool::Pool(Runtime& runtime, const std::filesystem::path& model, const PoolConfig& config, const std::string& label)
    : plan_(checked_plan(runtime, model, config, label)), workers_(make_workers(runtime, model, config, plan_)) {
  const std::size_t budget = core_budget(plan_);
  std::vector<WorkerSlot<PoolItem, TensorSet>> slots;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    // The adaptive pool's workers learn whether stacking items pays (batch_learner.hpp), up to
    // kLearntBatchCap, when the model lets items stack; a pool given its batch keeps it.
    const bool learns = budget > 0 && plan_[i].batch == 1 && plan_[i].width > 0 && w->stackable();
    if (learns) learnt_batch_cap_ = kLearntBatchCap;
    // The adaptive pool's wide worker (as wide as the budget): it hosts callers and polls when idle.
    const bool wide = plan_[i].width > 0 && plan_[i].width == budget;
    slots.push_back({.name = w->name(),
                     .max_batch = learns ? kLearntBatchCap : plan_[i].batch,
                     .width = plan_[i].width,
                     // The adaptive pool's wide worker also runs items on the thread of a run_all/run
                     // caller, which would otherwise sleep while the worker's thread is woken: a lone item
                     // (or a job of a few milliseconds) then runs with no hand-off. Not the narrow ones:
                     // a caller in their rounds made a 0.3 ms model's passes of 6-38 items 1.5x slower
                     // (measured; docs/ROADMAP.md, issue 10).
                     .caller_may_run = wide,
                     .learn_batch = learns,
                     // With the memory pattern on, ONNX Runtime's second run at a new shape is slow too
                     // (it plans on the first, allocates the planned block on the second).
                     .warmup_runs = plan_[i].memory_pattern ? std::size_t{2} : std::size_t{1},
                     .idle_poll = wide ? std::chrono::microseconds(kWideWorkerIdlePoll) : std::chrono::microseconds{0},
                     .on_start = [w] { w->bind_current_thread(); },
                     .run = [w](std::vector<PoolItem>& batch) { return run_on(*w, batch); }});
  }
  scheduler_ = std::make_unique<Scheduler<PoolItem, TensorSet>>(std::move(slots), config.policy, budget);
}

Pool::~Pool() = default;

std::future<TensorSet> Pool::submit(TensorSet inputs) {
  PoolItem item;
  item.owned = std::move(inputs);
  return scheduler_->submit(std::move(item));
}

std::vector<TensorSet> Pool::run_items(std::vector<PoolItem> items) {
  return scheduler_->run_all(std::move(items));
}

std::vector<TensorSet> Pool::run_all(std::vector<TensorSet> items) {
  std::vector<PoolItem> owned(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) owned[i].owned = std::move(items[i]);
  return run_items(std::move(owned));
}

std::vector<TensorSet> Pool::run(std::span<const TensorSet> items, std::span<double> service_seconds) {
  check_timing_span(items.size(), service_seconds);
  std::vector<PoolItem> borrowed(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    borrowed[i].borrowed = &items[i];
    if (!service_seconds.empty()) borrowed[i].service_seconds = &service_seconds[i];
  }
  return run_items(std::move(borrowed));
}

std::vector<PreparedItem> Pool::prepare(std::span<const TensorSet> items) {
  std::vector<PreparedItem> prepared;
  prepared.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) prepared.push_back(workers_[i % workers_.size()]->prepare(items[i]));
  return prepared;
}

void Pool::run(std::span<PreparedItem> items, std::span<double> service_seconds) {
  check_timing_span(items.size(), service_seconds);
  std::vector<PoolItem> prepared(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    prepared[i].prepared = &items[i];
    if (!service_seconds.empty()) prepared[i].service_seconds = &service_seconds[i];
  }
  static_cast<void>(run_items(std::move(prepared)));
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

const std::vector<std::string>& Pool::output_names() const {
  return workers_.front()->output_names();
}

}  // namespace onnxpool
