// The strategies of `onnxpool bench` (see strategies.hpp for what each is): the tutorial's single session
// runs on one Worker, everything with several sessions on a Pool, exactly as users run it.
#include <algorithm>
#include <chrono>
#include <numeric>

#include <fmt/format.h>

#include "common/split.hpp"
#include "onnxpool/bench/strategies.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/worker.hpp"

namespace onnxpool::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// How a strategy hands items to its sessions: as tensors (converted at each run), or as the tutorial's
// OrtValues, made before timing with their outputs pre-allocated (prepared_item.hpp).
enum class ItemPath { Tensors, Values };

std::string values_note(ItemPath path) {
  return path == ItemPath::Values ? ", inputs as OrtValues, outputs pre-allocated" : "";
}

// Where a CUDA worker's OrtValue inputs live, for the report: "" for CPU workers and the Tensors path.
std::string residence_note(const PreparedItem& item) {
  if (!item.inputs_on_device() && item.host_reason().empty()) return {};
  if (item.inputs_on_device()) return fmt::format(" ({}: inputs in GPU memory)", item.worker());
  return fmt::format(" ({}: inputs stay in host memory: {})", item.worker(), item.host_reason());
}

// seq_gpu's device: the first CUDA entry of --devices, else GPU 0.
DeviceSpec first_gpu(std::span<const DeviceSpec> devices) {
  const auto found =
      std::find_if(devices.begin(), devices.end(), [](const DeviceSpec& d) { return d.kind == DeviceKind::Cuda; });
  DeviceSpec gpu = found != devices.end() ? *found : DeviceSpec{.kind = DeviceKind::Cuda};
  gpu.count = 1;
  gpu.batch = 0;
  return gpu;
}

std::string device_text(const DeviceSpec& device) {
  DeviceSpec one = device;
  one.count = 1;
  one.batch = 0;
  return one.to_string();
}

// What a strategy keeps between prepare(), run() and the reads after: the items of the next run, and the
// outputs and per-item latencies of the last (outputs in prepared items on the OrtValue path).
struct RunState {
  ItemPath path = ItemPath::Tensors;
  std::span<const TensorSet> items;
  std::vector<TensorSet> outputs;
  std::vector<PreparedItem> prepared;
  std::vector<double> latencies;

  void reset(std::span<const TensorSet> next) {
    items = next;
    latencies.assign(next.size(), 0.0);
    outputs.clear();
    prepared.clear();
  }
  std::vector<TensorSet> take_outputs() {
    if (path == ItemPath::Tensors) return std::move(outputs);
    std::vector<TensorSet> copies;
    for (const auto& item : prepared) copies.push_back(item.outputs());
    return copies;
  }
};

// sequence, sequence_ortvalue, batched, seq_cpu, seq_gpu: one session at ONNX Runtime's default
// threading, on the calling thread, running the items one by one or stacked into one run.
class SessionLoop final : public Strategy {
 public:
  SessionLoop(std::string name, Runtime& runtime, const std::filesystem::path& model, ItemPath path, bool stacked,
              const DeviceSpec& device = {})
      : name_(std::move(name)),
        worker_(runtime, model, WorkerPlan{.name = name_, .device = device, .ort_defaults = true}),
        stacked_(stacked) {
    run_.path = path;
  }

  [[nodiscard]] std::string_view name() const override { return name_; }
  [[nodiscard]] std::string setup() const override {
    const DeviceSpec& device = worker_.plan().device;
    const std::string where = device.kind == DeviceKind::Cpu ? "1 session at ORT default threading"
                                                             : fmt::format("1 session on {}", device_text(device));
    if (stacked_) return where + ", the N items stacked into one run";
    const std::string residence = run_.prepared.empty() ? "" : residence_note(run_.prepared.front());
    return where + ", items one by one" + values_note(run_.path) + residence;
  }
  void prepare(std::span<const TensorSet> items) override {
    run_.reset(items);
    if (run_.path == ItemPath::Values) {
      for (const auto& item : items) run_.prepared.push_back(worker_.prepare(item));
    }
  }
  void run() override {
    auto& latencies = run_.latencies;
    if (stacked_) {
      std::vector<const TensorSet*> all;
      for (const auto& item : run_.items) all.push_back(&item);
      const auto start = Clock::now();
      run_.outputs = worker_.run(all);
      std::fill(latencies.begin(), latencies.end(), seconds_since(start));
    } else if (run_.path == ItemPath::Values) {
      for (std::size_t i = 0; i < run_.prepared.size(); ++i) {
        const auto start = Clock::now();
        worker_.run(run_.prepared[i]);
        latencies[i] = seconds_since(start);
      }
    } else {
      run_.outputs.resize(run_.items.size());
      for (std::size_t i = 0; i < run_.items.size(); ++i) {
        const auto start = Clock::now();
        run_.outputs[i] = worker_.run(run_.items[i]);
        latencies[i] = seconds_since(start);
      }
    }
  }
  [[nodiscard]] std::vector<TensorSet> outputs() override { return run_.take_outputs(); }
  [[nodiscard]] std::span<const double> latencies() const override { return run_.latencies; }
  [[nodiscard]] std::vector<WorkerShare> shares() const override {
    const auto& latencies = run_.latencies;
    const double busy = stacked_ ? (latencies.empty() ? 0.0 : latencies.front())
                                 : std::accumulate(latencies.begin(), latencies.end(), 0.0);
    WorkerShare share;
    share.counters = WorkerStats{.name = worker_.name(),
                                 .items = run_.items.size(),
                                 .runs = stacked_ ? std::size_t{1} : run_.items.size(),
                                 .busy_seconds = busy};
    share.device = device_text(worker_.plan().device);
    return {share};
  }

 private:
  std::string name_;
  Worker worker_;
  bool stacked_;
  RunState run_;
};

// "2 workers x 1 thread, dynamic, batch 1, spinning off, not pinned"; with devices of several kinds
// "cpu:2 + cuda:0@32, dynamic".
std::string plans_summary(const std::vector<WorkerPlan>& plans, const PoolConfig& config,
                          std::size_t learnt_batch_cap = 0) {
  const bool all_cpu =
      std::all_of(plans.begin(), plans.end(), [](const WorkerPlan& p) { return p.device.kind == DeviceKind::Cpu; });
  if (!all_cpu) {
    std::vector<std::string> devices;
    for (const auto& plan : plans) {
      DeviceSpec one = plan.device;
      one.count = 1;
      one.batch = plan.batch == 1 ? 0 : static_cast<int>(plan.batch);
      devices.push_back(one.to_string());
    }
    return fmt::format("{} {}: {}, {} split", plans.size(), config.ort_defaults ? "sessions" : "workers",
                       fmt::join(devices, " + "), policy_name(config.policy));
  }
  if (config.ort_defaults) {
    return fmt::format("{} sessions at ORT default threading, {} split", plans.size(), policy_name(config.policy));
  }
  const WorkerPlan& first = plans.front();
  // The adaptive pool's wide worker (the last; core_budget says there is one) is named apart.
  const bool wide = core_budget(plans) > 0;
  const std::size_t narrow = plans.size() - (wide ? 1 : 0);
  const std::string wide_text =
      wide ? fmt::format(" + 1 x {} threads for lone items (cores shared by width)", plans.back().threads) : "";
  const std::string batch =
      learnt_batch_cap > 0 ? fmt::format("learnt 1-{}", learnt_batch_cap) : std::to_string(config.batch);
  return fmt::format("{} workers x {} thread{}{}, {}, batch {}, spinning {}, {}", narrow, first.threads,
                     first.threads == 1 ? "" : "s", wide_text, policy_name(config.policy), batch,
                     first.spinning ? "on" : "off", first.cores.empty() ? "not pinned" : "pinned");
}

// parallel, parallel_ortvalue, pool: a Pool, run over the caller's items as users run it. On the
// OrtValue path (the tutorial's static split) item i is prepared for worker i mod W, the one that runs it.
class PoolRun final : public Strategy {
 public:
  PoolRun(std::string name, Runtime& runtime, const std::filesystem::path& model, const PoolConfig& config,
          ItemPath path)
      : name_(std::move(name)), pool_(runtime, model, config, name_) {
    run_.path = path;
    summary_ = plans_summary(pool_.plan(), config, pool_.learnt_batch_cap()) + values_note(path);
  }

  [[nodiscard]] std::string_view name() const override { return name_; }
  [[nodiscard]] std::string setup() const override {
    std::string text = summary_;
    // One note per worker: items i < W were prepared on worker i.
    for (std::size_t w = 0; w < std::min(run_.prepared.size(), pool_.size()); ++w) {
      text += residence_note(run_.prepared[w]);
    }
    return text;
  }
  void prepare(std::span<const TensorSet> items) override {
    run_.reset(items);
    if (run_.path == ItemPath::Values) run_.prepared = pool_.prepare(items);
  }
  void run() override {
    pool_.reset_stats();  // shares() tells the last run's
    if (run_.path == ItemPath::Values) {
      pool_.run(std::span<PreparedItem>(run_.prepared), run_.latencies);
    } else {
      run_.outputs = pool_.run(run_.items, run_.latencies);
    }
  }
  [[nodiscard]] std::vector<TensorSet> outputs() override { return run_.take_outputs(); }
  [[nodiscard]] std::span<const double> latencies() const override { return run_.latencies; }
  [[nodiscard]] std::vector<WorkerShare> shares() const override {
    const auto stats = pool_.stats();
    std::vector<WorkerShare> shares;
    for (std::size_t i = 0; i < stats.size(); ++i) {
      shares.push_back({.counters = stats[i], .device = device_text(pool_.plan()[i].device)});
    }
    return shares;
  }

 private:
  std::string name_;
  Pool pool_;
  std::string summary_;
  RunState run_;
};

// The tutorial's parallel: W default sessions with a fixed split; over the listed devices when given
// (its CPU+GPU and multi-GPU runs), one session per entry, each taking one item at a time.
PoolConfig tutorial_parallel(int workers, std::span<const DeviceSpec> devices) {
  PoolConfig config;
  config.workers = devices.empty() ? workers : 0;
  for (DeviceSpec device : devices) {
    device.batch = 0;
    config.devices.push_back(device);
  }
  config.policy = Policy::Static;
  config.ort_defaults = true;
  return config;
}

}  // namespace

std::string_view strategy_name(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::Sequence:
      return "sequence";
    case StrategyKind::Parallel:
      return "parallel";
    case StrategyKind::SequenceOrtValue:
      return "sequence_ortvalue";
    case StrategyKind::ParallelOrtValue:
      return "parallel_ortvalue";
    case StrategyKind::Pool:
      return "pool";
    case StrategyKind::Batched:
      return "batched";
    case StrategyKind::SeqCpu:
      return "seq_cpu";
    case StrategyKind::SeqGpu:
      return "seq_gpu";
  }
  return "?";
}

std::vector<StrategyKind> all_strategies() {
  return {StrategyKind::Sequence,         StrategyKind::Parallel, StrategyKind::SequenceOrtValue,
          StrategyKind::ParallelOrtValue, StrategyKind::Pool,     StrategyKind::Batched,
          StrategyKind::SeqCpu,           StrategyKind::SeqGpu};
}

namespace {
bool any_gpu(std::span<const DeviceSpec> devices) {
  return std::any_of(devices.begin(), devices.end(), [](const DeviceSpec& d) { return d.kind == DeviceKind::Cuda; });
}
}  // namespace

std::vector<StrategyKind> default_strategies(std::span<const DeviceSpec> devices) {
  if (any_gpu(devices)) {
    return {StrategyKind::SeqCpu, StrategyKind::SeqGpu, StrategyKind::Parallel, StrategyKind::Pool};
  }
  return {StrategyKind::Sequence,         StrategyKind::Parallel, StrategyKind::SequenceOrtValue,
          StrategyKind::ParallelOrtValue, StrategyKind::Pool,     StrategyKind::Batched};
}

bool uses_gpu(std::span<const StrategyKind> kinds, std::span<const DeviceSpec> devices) {
  for (const auto kind : kinds) {
    if (kind == StrategyKind::SeqGpu) return true;
    const bool over_devices =
        kind == StrategyKind::Parallel || kind == StrategyKind::ParallelOrtValue || kind == StrategyKind::Pool;
    if (over_devices && any_gpu(devices)) return true;
  }
  return false;
}

std::vector<StrategyKind> parse_strategies(std::string_view list) {
  std::vector<StrategyKind> kinds;
  for (const std::string_view word : split_list(list)) {
    if (word.empty()) continue;
    const auto all = all_strategies();
    const auto found = std::find_if(all.begin(), all.end(), [&](StrategyKind k) { return strategy_name(k) == word; });
    if (found == all.end()) {
      std::vector<std::string_view> names;
      names.reserve(all.size());
      for (const auto k : all) names.push_back(strategy_name(k));
      throw Error(fmt::format("unknown strategy '{}' (expected {})", word, fmt::join(names, ", ")));
    }
    if (std::find(kinds.begin(), kinds.end(), *found) == kinds.end()) kinds.push_back(*found);
  }
  if (kinds.empty()) throw Error(fmt::format("no strategy named in '{}'", list));
  return kinds;
}

int default_workers(int cores) {
  return std::max(2, std::min(4, cores - 1));
}

std::vector<std::size_t> sweep_sizes(std::size_t workers, std::size_t max_n, std::size_t step_n) {
  if (workers == 0 || max_n == 0 || step_n == 0) {
    throw Error(
        fmt::format("the sweep needs workers, --max-n and --step >= 1 (got {}, {}, {})", workers, max_n, step_n));
  }
  std::vector<std::size_t> sizes{1};
  for (std::size_t n = workers; n < max_n * workers; n += step_n * workers) sizes.push_back(n);
  return sizes;
}

std::string batched_skip_reason(const ModelInfo& info) {
  if (info.batchable()) return {};
  return fmt::format("{} has no symbolic first (batch) dim on every input and output", info.path.filename().string());
}

std::unique_ptr<Strategy> make_pool_strategy(Runtime& runtime, const std::filesystem::path& model,
                                             const PoolConfig& config) {
  return std::make_unique<PoolRun>("pool", runtime, model, config, ItemPath::Tensors);
}

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, Runtime& runtime, const std::filesystem::path& model,
                                        const ModelInfo& info, int workers, const PoolConfig& pool) {
  const std::string name(strategy_name(kind));
  switch (kind) {
    case StrategyKind::Sequence:
    case StrategyKind::SeqCpu:
      return std::make_unique<SessionLoop>(name, runtime, model, ItemPath::Tensors, false);
    case StrategyKind::SeqGpu:
      return std::make_unique<SessionLoop>(name, runtime, model, ItemPath::Tensors, false, first_gpu(pool.devices));
    case StrategyKind::SequenceOrtValue:
      return std::make_unique<SessionLoop>(name, runtime, model, ItemPath::Values, false);
    case StrategyKind::Batched:
      if (!info.batchable()) return nullptr;
      return std::make_unique<SessionLoop>(name, runtime, model, ItemPath::Tensors, true);
    case StrategyKind::Parallel:
      return std::make_unique<PoolRun>(name, runtime, model, tutorial_parallel(workers, pool.devices),
                                       ItemPath::Tensors);
    case StrategyKind::ParallelOrtValue:
      return std::make_unique<PoolRun>(name, runtime, model, tutorial_parallel(workers, pool.devices),
                                       ItemPath::Values);
    case StrategyKind::Pool:
      return make_pool_strategy(runtime, model, pool);
  }
  throw Error("unknown strategy");
}

}  // namespace onnxpool::bench
