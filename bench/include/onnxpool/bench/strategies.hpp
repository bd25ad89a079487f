#pragma once
// `onnxpool bench`: the ONNX Runtime tutorial "Multithreading with onnxruntime" reproduced faithfully
// (sequence, the tutorial's parallel and their OrtValue variants), against onnxpool's pool and a stacked
// batch, over the tutorial's sweep of item counts N.
//
// Every strategy with several sessions runs on a Pool, exactly as users run it; the single-session ones
// on one Worker:
//  - sequence, sequence_ortvalue: one Worker at ONNX Runtime's default threading, a plain loop.
//  - parallel, parallel_ortvalue: a Pool of W sessions at default threading under Policy::Static (item i
//    to worker i mod W: the tutorial's imgs[i::W]). The tutorial starts W fresh threads per call; the
//    pool's threads live across calls, which saves ~50 us per call against runs of milliseconds.
//  - pool: a Pool of W workers x T intra-op threads (W x T = the cores), spinning off, Policy::Dynamic;
//    with batch B a worker takes up to B queued items at once.
//  - batched: one Worker at default threading runs all N items stacked along the batch dim.
// The tutorial's GPU experiments, over the devices of --devices (e.g. cpu,cuda:0 or cuda:0,cuda:1):
//  - seq_cpu: sequence under the tutorial's GPU-section name (one default CPU session, one by one).
//  - seq_gpu: one session on the first CUDA device of the list (cuda:0 when it names none), one by one.
//  - parallel(_ortvalue) with devices: one default session per device entry, the static split imgs[i::W]
//    (the tutorial's CPU+GPU and multi-GPU runs); pool with devices: one worker per entry, dynamic queue.
// The pools run the caller's items in place (Pool::run over a span): nothing is copied in the timed
// region that the other strategies skip.
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/bench/stats.hpp"
#include "onnxpool/pool/pool_config.hpp"
#include "onnxpool/runtime/device.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/scheduling/scheduler.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {
class Runtime;
class Progress;
}  // namespace onnxpool

namespace onnxpool::bench {

enum class StrategyKind { Sequence, Parallel, SequenceOrtValue, ParallelOrtValue, Pool, Batched, SeqCpu, SeqGpu };

std::string_view strategy_name(StrategyKind kind);  // the CSV suffix: "sequence", "parallel_ortvalue"...
// Comma-separated names; throws Error naming an unknown one and listing the known ones. Duplicates are
// dropped, order kept.
std::vector<StrategyKind> parse_strategies(std::string_view list);
std::vector<StrategyKind> all_strategies();
// Without a CUDA device in `devices`: the tutorial's six CPU strategies (sequence, parallel, their OrtValue
// variants, pool, batched; the default MobileNetV2 sweep takes well under 5 minutes on 2 cores). With
// one: its GPU experiment, seq_cpu, seq_gpu, parallel and pool over the devices.
std::vector<StrategyKind> default_strategies(std::span<const DeviceSpec> devices = {});
// Whether any of these strategies runs on a GPU given `devices` (seq_gpu always does).
bool uses_gpu(std::span<const StrategyKind> kinds, std::span<const DeviceSpec> devices);

// W for `parallel` and `pool` when --workers is not given: the tutorial's min(4, cores - 1), but at least
// 2, since with one worker there is no parallelism to compare (2 cores give 1, hence 2).
int default_workers(int cores);
// The tutorial's N values: [1] + range(W, maxN * W, stepN * W). Throws Error when any is 0.
std::vector<std::size_t> sweep_sizes(std::size_t workers, std::size_t max_n, std::size_t step_n);

// One worker's part of a run: the scheduler's counters (name "pool:cpu#0", items, session runs, busy
// seconds) and the device it ran on ("cpu:1", "cuda:0").
struct WorkerShare {
  WorkerStats counters{};
  std::string device{};
};

// One way of running N items. Usage per measurement: prepare (untimed), run (timed), outputs (untimed).
class Strategy {
 public:
  Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;
  virtual ~Strategy() = default;

  [[nodiscard]] virtual std::string_view name() const = 0;
  // How it is set up, for the report ("2 workers x 1 thread, dynamic, batch 1"); after a prepare() it
  // also says where a GPU worker's prepared inputs live.
  [[nodiscard]] virtual std::string setup() const = 0;
  // Readies these items for the next run(): OrtValue views, pre-allocated outputs. The items must
  // outlive the next run() and outputs().
  virtual void prepare(std::span<const TensorSet> items) = 0;
  // Runs the prepared items: the timed part.
  virtual void run() = 0;
  // The outputs of the last run, in item order.
  [[nodiscard]] virtual std::vector<TensorSet> outputs() = 0;
  // Seconds each item of the last run spent in the session run that computed it (for a stacked batch,
  // the batch's run): service latency, without the queueing of N items submitted at once.
  [[nodiscard]] virtual std::span<const double> latencies() const = 0;
  // What each worker did in the last run, in worker order: with a static split every worker has its
  // fixed share, with the dynamic queue a fast device takes more.
  [[nodiscard]] virtual std::vector<WorkerShare> shares() const = 0;
};

// `pool` as `config` makes it (the grid's configurations too).
std::unique_ptr<Strategy> make_pool_strategy(Runtime& runtime, const std::filesystem::path& model,
                                             const PoolConfig& config);
// Any strategy; `workers` is W for parallel* (unless pool.devices lists the devices, one session each),
// `pool` configures `pool`. Returns nullptr for `batched` on a model without a symbolic batch dim on every
// input and output (the caller notes the skip). seq_gpu and CUDA devices without a usable GPU: Error
// with the reason.
std::unique_ptr<Strategy> make_strategy(StrategyKind kind, Runtime& runtime, const std::filesystem::path& model,
                                        const ModelInfo& info, int workers, const PoolConfig& pool);
// Why `batched` cannot run this model, or "" when it can.
std::string batched_skip_reason(const ModelInfo& info);

struct SweepOptions {
  int workers = 2;         // W
  std::size_t max_n = 21;  // maxN
  std::size_t step_n = 2;  // stepN
  std::size_t repeat = 4;  // repN: runs per N and strategy, the first discarded
  std::vector<StrategyKind> strategies = default_strategies();
  PoolConfig pool;     // for `pool`
  double rtol = 1e-4;  // output check against sequence
  double atol = 1e-5;
  int measure_repeat = 10;  // the tutorial's measure_time on one item
  int measure_number = 10;
  const std::atomic<bool>* stop = nullptr;  // set: the sweep ends with Interrupted before its next pass
};

// How long one strategy took at one N.
struct Timing {
  std::size_t results = 0;  // outputs returned (must equal N)
  double seconds = 0.0;     // mean over the timed runs (all but the first)
  double stddev = 0.0;
};

struct SweepRow {
  std::size_t n = 0;
  std::vector<Timing> timings;  // one per SweepResult::names entry
};

struct StrategyReport {
  std::string name;
  std::string description;
  double max_abs_error = 0.0;  // against the reference strategy, over every N
  double max_rel_error = 0.0;
  double throughput = 0.0;           // items/s at the largest N
  Summary latency;                   // per-item service latency at the largest N (seconds)
  std::vector<WorkerShare> workers;  // each worker's part of the last run at the largest N
};

struct SweepResult {
  SweepOptions options;
  std::size_t n_imgs = 0;          // images made: maxN * W (so that every N fits)
  std::string reference;           // the strategy outputs are compared against ("sequence")
  std::vector<std::string> names;  // the strategies run, in order
  std::vector<StrategyReport> strategies;
  std::vector<SweepRow> rows;
  std::vector<std::string> notes;  // skips and remarks
  MeasureTime measure;             // measure_time of the reference session on one item
};

// Runs the sweep over `images` (at least the largest N of them). Every strategy must return N results
// whose outputs equal the reference's (sequence when selected, else the first) within rtol/atol:
// otherwise throws Error naming the strategy, N, the item and the output.
SweepResult run_sweep(Runtime& runtime, const std::filesystem::path& model, const ModelInfo& info,
                      std::span<const TensorSet> images, const SweepOptions& options, Progress* progress);

// Peak resident memory of this process so far (VmHWM), in bytes; 0 when unknown.
std::size_t peak_rss_bytes();

}  // namespace onnxpool::bench
