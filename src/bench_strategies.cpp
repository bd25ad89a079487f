// The strategies of `onnxpool bench`, built from Worker and Scheduler (see bench.hpp for what each is).
#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "onnxpool/bench.hpp"
#include "onnxpool/cpu.hpp"
#include "onnxpool/ort_value.hpp"
#include "onnxpool/runtime.hpp"
#include "onnxpool/scheduler.hpp"
#include "onnxpool/worker.hpp"
#include "ort_error.hpp"

namespace onnxpool::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The tutorial's OrtValue path, one item: its inputs as Ort::Values made before timing where the worker
// that will run it reads them (views on a CPU worker, copies in GPU memory on a CUDA worker), and its
// outputs pre-allocated (shapes learnt from one untimed probe run per distinct input shapes) and bound
// as views, so the timed run neither converts nor copies inputs, nor allocates outputs.
struct ValueItem {
  std::vector<Ort::Value> inputs;
  std::vector<Tensor> outputs;
  std::vector<Ort::Value> output_values;  // views of `outputs`; empty: ONNX Runtime allocates (strings)
  std::vector<Ort::Value> allocated;      // the outputs ONNX Runtime allocated, when not pre-allocated
};

// Work shared by every strategy: run some of the prepared items on one worker and record their outputs
// and latencies. Each item index is written by exactly one thread per run; the scheduler's futures (or
// the single calling thread) order those writes before outputs() reads them.
class ItemRunner {
 public:
  enum class Path { Tensors, Values };
  explicit ItemRunner(Path path) : path_(path) {}

  // `owners`: the worker that will run item i is owners[i mod owners.size()] (one worker, or the
  // static split's); its OrtValues are made for that worker's device.
  void prepare(std::span<const TensorSet> items, std::span<const std::unique_ptr<Worker>> owners) {
    items_ = items;
    outputs_.assign(items.size(), TensorSet{});
    latencies_.assign(items.size(), 0.0);
    values_.clear();
    if (path_ != Path::Values) return;
    values_.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) prepare_values(items[i], *owners[i % owners.size()], values_[i]);
  }

  void run(Worker& worker, std::span<const std::size_t> indices) {
    if (path_ == Path::Values) {
      for (const std::size_t i : indices) run_values(worker, i);
      return;
    }
    const auto start = Clock::now();
    if (indices.size() == 1) {
      outputs_[indices[0]] = worker.run(items_[indices[0]]);
      latencies_[indices[0]] = seconds_since(start);
      return;
    }
    std::vector<const TensorSet*> batch;
    batch.reserve(indices.size());
    for (const std::size_t i : indices) batch.push_back(&items_[i]);
    auto results = worker.run_batch(batch);
    const double seconds = seconds_since(start);
    for (std::size_t k = 0; k < indices.size(); ++k) {
      outputs_[indices[k]] = std::move(results[k]);
      latencies_[indices[k]] = seconds;
    }
  }

  std::vector<TensorSet> outputs(const std::vector<std::string>& output_names) {
    if (path_ == Path::Values) {
      for (std::size_t i = 0; i < values_.size(); ++i) {
        ValueItem& v = values_[i];
        TensorSet set;
        for (std::size_t k = 0; k < output_names.size(); ++k) {
          set.push_back(
              {output_names[k], v.output_values.empty() ? from_ort_value(v.allocated[k]) : std::move(v.outputs[k])});
        }
        outputs_[i] = std::move(set);
      }
    }
    return std::move(outputs_);
  }

  [[nodiscard]] std::span<const double> latencies() const { return latencies_; }
  [[nodiscard]] std::size_t size() const { return items_.size(); }
  [[nodiscard]] Path path() const { return path_; }

 private:
  void prepare_values(const TensorSet& item, Worker& probe, ValueItem& v) {
    v.inputs = probe.resident_inputs(item);
    std::vector<Shape> signature;
    for (const auto& value : v.inputs) signature.push_back(value.GetTensorTypeAndShapeInfo().GetShape());
    auto known = output_layouts_.find(signature);
    if (known == output_layouts_.end()) {
      // One untimed run tells the output types and shapes for inputs of these shapes.
      std::vector<std::pair<ElementType, Shape>> layout;
      for (const auto& output : probe.run(item))
        layout.emplace_back(output.tensor.element_type(), output.tensor.shape());
      known = output_layouts_.emplace(signature, std::move(layout)).first;
    }
    const bool strings = std::any_of(known->second.begin(), known->second.end(),
                                     [](const auto& l) { return l.first == ElementType::String; });
    if (strings) return;  // ONNX Runtime keeps strings in its own layout: let it allocate them
    for (const auto& [type, shape] : known->second) v.outputs.emplace_back(type, shape);
    for (Tensor& output : v.outputs) v.output_values.push_back(to_ort_value(output));
  }

  void run_values(Worker& worker, std::size_t i) {
    ValueItem& v = values_[i];
    const auto start = Clock::now();
    if (v.output_values.empty()) {
      v.allocated = worker.run_values(v.inputs);
    } else {
      // A run writing into the bound output buffers: the tutorial's run_with_ort_values with its
      // outputs given.
      worker.run_values_into(v.inputs, v.output_values);
    }
    latencies_[i] = seconds_since(start);
  }

  Path path_;
  std::span<const TensorSet> items_;
  std::vector<TensorSet> outputs_;
  std::vector<double> latencies_;
  std::vector<ValueItem> values_;
  std::map<std::vector<Shape>, std::vector<std::pair<ElementType, Shape>>> output_layouts_;
};

std::string values_note(const ItemRunner& runner) {
  return runner.path() == ItemRunner::Path::Values ? ", inputs as OrtValues, outputs pre-allocated" : "";
}

// Where a CUDA worker's OrtValue inputs live, for the report: "" for CPU workers and the Tensors path.
std::string residence_note(const ItemRunner& runner, const Worker& worker) {
  if (runner.path() != ItemRunner::Path::Values || worker.options().device.kind != DeviceKind::Cuda) return {};
  if (worker.inputs_on_device()) return fmt::format(" ({}: inputs in GPU memory)", worker.name());
  return fmt::format(" ({}: inputs stay in host memory: {})", worker.name(), worker.inputs_on_host_reason());
}

std::unique_ptr<Worker> default_worker(Runtime& runtime, const std::filesystem::path& model, const std::string& name,
                                       const DeviceSpec& device) {
  WorkerOptions options;
  options.device = device;
  options.ort_defaults = true;
  return std::make_unique<Worker>(runtime, model, options, name);
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

// sequence, sequence_ortvalue, batched: one default session on the calling thread.
class SingleSession final : public Strategy {
 public:
  SingleSession(std::string name, Runtime& runtime, const std::filesystem::path& model, ItemRunner::Path path,
                bool stacked, const DeviceSpec& device = {})
      : name_(std::move(name)),
        worker_(default_worker(runtime, model, name_, device)),
        runner_(path),
        stacked_(stacked) {}

  [[nodiscard]] std::string_view name() const override { return name_; }
  [[nodiscard]] std::string describe() const override {
    const DeviceSpec& device = worker_->options().device;
    const std::string where = device.kind == DeviceKind::Cpu ? "1 session at ORT default threading"
                                                             : fmt::format("1 session on {}", device_text(device));
    if (stacked_) return where + ", the N items stacked into one run";
    return where + ", items one by one" + values_note(runner_) + residence_note(runner_, *worker_);
  }
  void prepare(std::span<const TensorSet> items) override { runner_.prepare(items, std::span(&worker_, 1)); }
  void run() override {
    std::vector<std::size_t> indices(runner_.size());
    std::iota(indices.begin(), indices.end(), std::size_t{0});
    if (stacked_) {
      runner_.run(*worker_, indices);
    } else {
      for (const std::size_t i : indices) runner_.run(*worker_, std::span(&i, 1));
    }
  }
  [[nodiscard]] std::vector<TensorSet> outputs() override { return runner_.outputs(worker_->output_names()); }
  [[nodiscard]] std::span<const double> latencies() const override { return runner_.latencies(); }
  [[nodiscard]] std::vector<WorkerShare> shares() const override {
    const auto latencies = runner_.latencies();
    const double busy = stacked_ ? (latencies.empty() ? 0.0 : latencies.front())
                                 : std::accumulate(latencies.begin(), latencies.end(), 0.0);
    return {{.name = worker_->name(),
             .device = device_text(worker_->options().device),
             .items = runner_.size(),
             .runs = stacked_ ? std::size_t{1} : runner_.size(),
             .busy_seconds = busy}};
  }

 private:
  std::string name_;
  std::unique_ptr<Worker> worker_;
  ItemRunner runner_;
  bool stacked_;
};

// "2 workers x 1 thread, dynamic, batch 1, spinning off, not pinned"; with devices of several kinds
// "cpu:2 + cuda:0@32, dynamic".
std::string describe_plans(const std::vector<WorkerPlan>& plans, const PoolOptions& options) {
  const bool all_cpu =
      std::all_of(plans.begin(), plans.end(), [](const WorkerPlan& p) { return p.device.kind == DeviceKind::Cpu; });
  if (!all_cpu) {
    std::vector<std::string> devices;
    for (const auto& plan : plans) {
      DeviceSpec one = plan.device;
      one.count = 1;
      one.batch = static_cast<int>(worker_batch(plan, options.batch));
      if (one.batch == 1) one.batch = 0;
      devices.push_back(one.to_string());
    }
    return fmt::format("{} {}: {}, {} split", plans.size(), options.ort_defaults ? "sessions" : "workers",
                       fmt::join(devices, " + "), policy_name(options.policy));
  }
  if (options.ort_defaults) {
    return fmt::format("{} sessions at ORT default threading, {} split", plans.size(), policy_name(options.policy));
  }
  const WorkerPlan& first = plans.front();
  return fmt::format("{} workers x {} thread{}, {}, batch {}, spinning {}, {}", plans.size(), first.threads,
                     first.threads == 1 ? "" : "s", policy_name(options.policy), options.batch,
                     first.spinning ? "on" : "off", first.cores.empty() ? "not pinned" : "pinned");
}

// parallel, parallel_ortvalue, pool: several workers fed by the Scheduler. Items are indices.
class Scheduled final : public Strategy {
 public:
  Scheduled(std::string name, Runtime& runtime, const std::filesystem::path& model, const PoolOptions& options,
            bool share_weights, ItemRunner::Path path)
      : name_(std::move(name)), runner_(path) {
    const auto plans = plan_workers(options, CpuTopology::detect());
    PoolOptions made = options;
    made.share_weights = share_weights;
    workers_ = make_workers(runtime, model, made, plans, name_ + ":");
    description_ = describe_plans(plans, options) + values_note(runner_);
    std::vector<WorkerSlot<std::size_t, char>> slots;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      Worker* w = workers_[i].get();
      slots.push_back({.name = w->name(),
                       .max_batch = worker_batch(plans[i], options.batch),
                       .on_start = [w] { w->bind_current_thread(); },
                       .run =
                           [this, w](std::vector<std::size_t>& batch) {
                             runner_.run(*w, batch);
                             return std::vector<char>(batch.size(), 1);
                           }});
    }
    scheduler_ = std::make_unique<Scheduler<std::size_t, char>>(std::move(slots), options.policy);
  }

  [[nodiscard]] std::string_view name() const override { return name_; }
  [[nodiscard]] std::string describe() const override {
    std::string text = description_;
    for (const auto& worker : workers_) text += residence_note(runner_, *worker);
    return text;
  }
  // The static split sends item i to worker i mod W, so its values are made for that worker; under the
  // dynamic queue only the Tensors path is used (any worker may take any item).
  void prepare(std::span<const TensorSet> items) override { runner_.prepare(items, workers_); }
  void run() override {
    std::vector<std::size_t> indices(runner_.size());
    std::iota(indices.begin(), indices.end(), std::size_t{0});
    scheduler_->reset_stats();  // shares() tells the last run's
    static_cast<void>(scheduler_->run_all(std::move(indices)));
  }
  [[nodiscard]] std::vector<TensorSet> outputs() override { return runner_.outputs(workers_.front()->output_names()); }
  [[nodiscard]] std::span<const double> latencies() const override { return runner_.latencies(); }
  [[nodiscard]] std::vector<WorkerShare> shares() const override {
    const auto stats = scheduler_->stats();
    std::vector<WorkerShare> shares;
    for (std::size_t i = 0; i < stats.size(); ++i) {
      shares.push_back({.name = stats[i].name,
                        .device = device_text(workers_[i]->options().device),
                        .items = stats[i].items,
                        .runs = stats[i].batches,
                        .busy_seconds = stats[i].busy_seconds});
    }
    return shares;
  }

 private:
  std::string name_;
  std::string description_;
  ItemRunner runner_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Scheduler<std::size_t, char>> scheduler_;  // last: its threads stop before the rest goes
};

// The tutorial's parallel: W default sessions with a fixed split; over the listed devices when given
// (its CPU+GPU and multi-GPU runs), one session per entry, each taking one item at a time.
PoolOptions tutorial_parallel(int workers, std::span<const DeviceSpec> devices) {
  PoolOptions options;
  options.workers = devices.empty() ? workers : 0;
  for (DeviceSpec device : devices) {
    device.batch = 0;
    options.devices.push_back(device);
  }
  options.policy = Policy::Static;
  options.ort_defaults = true;
  return options;
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
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view word = list.substr(start, comma - start);
    start = comma + 1;
    if (word.empty()) continue;
    const auto all = all_strategies();
    const auto found = std::find_if(all.begin(), all.end(), [&](StrategyKind k) { return strategy_name(k) == word; });
    if (found == all.end()) {
      std::vector<std::string_view> names;
      for (const auto k : all) names.push_back(strategy_name(k));
      throw Error(fmt::format("unknown strategy '{}' (expected {})", word, fmt::join(names, ", ")));
    }
    if (std::find(kinds.begin(), kinds.end(), *found) == kinds.end()) kinds.push_back(*found);
  }
  if (kinds.empty()) throw Error("--strategies names no strategy");
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
                                             const ModelInfo& info, const PoolConfig& config) {
  if (config.batch > 1 && !info.batchable()) {
    throw Error(fmt::format("batch {} needs a symbolic batch dim: {}", config.batch, batched_skip_reason(info)));
  }
  PoolOptions options;
  options.devices = config.devices;
  options.workers = config.workers;
  options.threads = config.threads;
  options.policy = config.policy;
  options.batch = config.batch;
  options.pin = config.pin;
  options.spinning = config.spinning;
  return std::make_unique<Scheduled>("pool", runtime, model, options, config.share_weights, ItemRunner::Path::Tensors);
}

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, Runtime& runtime, const std::filesystem::path& model,
                                        const ModelInfo& info, int workers, const PoolConfig& pool) {
  const std::string name(strategy_name(kind));
  switch (kind) {
    case StrategyKind::Sequence:
    case StrategyKind::SeqCpu:
      return std::make_unique<SingleSession>(name, runtime, model, ItemRunner::Path::Tensors, false);
    case StrategyKind::SeqGpu:
      return std::make_unique<SingleSession>(name, runtime, model, ItemRunner::Path::Tensors, false,
                                             first_gpu(pool.devices));
    case StrategyKind::SequenceOrtValue:
      return std::make_unique<SingleSession>(name, runtime, model, ItemRunner::Path::Values, false);
    case StrategyKind::Batched:
      if (!info.batchable()) return nullptr;
      return std::make_unique<SingleSession>(name, runtime, model, ItemRunner::Path::Tensors, true);
    case StrategyKind::Parallel:
      return std::make_unique<Scheduled>(name, runtime, model, tutorial_parallel(workers, pool.devices), true,
                                         ItemRunner::Path::Tensors);
    case StrategyKind::ParallelOrtValue:
      return std::make_unique<Scheduled>(name, runtime, model, tutorial_parallel(workers, pool.devices), true,
                                         ItemRunner::Path::Values);
    case StrategyKind::Pool:
      return make_pool_strategy(runtime, model, info, pool);
  }
  throw Error("unknown strategy");
}

}  // namespace onnxpool::bench
