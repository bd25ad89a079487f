// onnxpool bench MODEL ...: the tutorial's sweep of strategies (CSV, JSON, table, plot), a grid of pool
// configurations with the best ones, or the peak memory of W workers.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "onnxpool/bench/grid.hpp"
#include "onnxpool/bench/measure.hpp"
#include "onnxpool/bench/report.hpp"
#include "onnxpool/bench/strategies.hpp"
#include "onnxpool/pipeline/progress.hpp"
#include "onnxpool/pool/tuned_config.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/device.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "options.hpp"
#include "signal_stop.hpp"

namespace onnxpool::cli {
namespace {

struct BenchArgs {
  std::string model;
  InputArgs inputs;
  PoolFlags pool;
  int sessions = 0;  // --sessions: the tutorial's W alone, the pool left as configured (automatic)
  std::string strategies;
  std::size_t max_n = 21;
  std::size_t step_n = 2;
  std::size_t repeat = 4;
  std::string csv;
  std::string json;
  std::string plot;
  std::vector<std::string> grid;
  bool best = false;
  std::string save_config;
  std::size_t items = 64;
  double duration = 0.0;
  double rtol = 1e-4;
  double atol = 1e-5;
  bool tolerance_given = false;  // --rtol or --atol on the command line
  bool memory = false;
  bool no_share_weights = false;
  bool quiet = false;
  const std::atomic<bool>* stop = nullptr;  // the command's SignalStop: set, the measurement ends
};

constexpr double kGpuTolerance = 1e-3;

void write_text(const std::string& path, const std::string& text) {
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

// `count` items: random (seed + i) with any --input files, or the --inputs data sets (or --data rows, or
// --images) repeated in turn.
// The bench holds its items in memory (its strategies time runs over items already made).
std::vector<TensorSet> bench_items(const ModelInfo& model, InputArgs args, std::size_t count) {
  if (args.inputs_dir.empty() && args.list_file.empty() && args.data_files.empty() && args.images.empty()) {
    if (args.random > 0) throw Error("bench makes its own item count (maxN x W, or --items): drop --random");
    args.random = static_cast<int>(count);
  }
  const auto source = make_source(model, args);
  std::vector<TensorSet> sets;
  for (std::size_t i = 0; i < std::min(count, source->size()); ++i) sets.push_back(source->read(i));
  std::vector<TensorSet> items;
  for (std::size_t i = 0; i < count; ++i) items.push_back(sets[i % sets.size()]);
  return items;
}

// The pool's configuration from the flags: W workers unless --devices lists them, spinning off unless
// asked (the pool shares the machine between sessions), one copy of the weights unless
// --no-share-weights.
PoolConfig bench_pool_config(const BenchArgs& args, int workers) {
  PoolConfig config = pool_config(args.pool);
  if (config.devices.empty()) config.workers = workers;
  config.spinning = config.spinning.value_or(false);
  config.share_weights = !args.no_share_weights;
  config.check_machine(CpuTopology::detect());  // before the model is loaded: refused at once
  return config;
}

double mib(std::size_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

int run_memory(const BenchArgs& args, Runtime& runtime, const ModelInfo& info, int workers) {
  const std::size_t before = bench::peak_rss_bytes();
  const auto config = bench_pool_config(args, workers);
  auto pool = bench::make_pool_strategy(runtime, args.model, config);
  const auto items = bench_items(info, args.inputs, 4 * static_cast<std::size_t>(workers));
  // The first pass allocates what a run keeps (arenas, prepared outputs); the second shows they are reused.
  static_cast<void>(bench::measure({.prepare = [&](bool) { pool->prepare(items); }, .run = [&](bool) { pool->run(); }},
                                   {.warmup = 1, .timed = 1, .stop = args.stop}));
  fmt::print("peak_rss_mib={:.1f} before_sessions_mib={:.1f} workers={} shared_weights={} ({})\n",
             mib(bench::peak_rss_bytes()), mib(before), workers, config.share_weights ? "yes" : "no", pool->setup());
  return 0;
}

int run_grid_mode(const BenchArgs& args, Runtime& runtime, const ModelInfo& info, int workers) {
  std::vector<bench::GridAxis> axes;
  for (const auto& spec : args.grid) axes.push_back(with_flag("--grid", [&] { return bench::parse_grid_axis(spec); }));
  PoolConfig base = bench_pool_config(args, workers);
  base.workers = args.pool.config.workers;  // automatic unless --workers or the grid says
  const auto configs = with_flag("--grid", [&] { return bench::expand_grid(axes, base); });
  // Every configuration refused now, before the first is measured; a value the grid gave is named as such.
  const auto cpu = CpuTopology::detect();
  for (const auto& config : configs) {
    try {
      config.check_for(info);
      config.check_machine(cpu);
    } catch (const ConfigError& e) {
      const bool from_grid = std::any_of(axes.begin(), axes.end(), [&](const auto& a) { return a.key == e.field(); });
      if (!from_grid) throw;
      throw Error(fmt::format("--grid {}={}: {}{}", e.field(), e.value(), e.what(), force_hint(e)));
    }
  }
  const bench::GridBudget budget{.items = args.items, .duration = args.duration, .warmup = 1, .stop = args.stop};
  const auto items = bench_items(info, args.inputs, args.items);
  std::vector<bench::GridRow> rows;
  {
    Progress progress(std::cerr, "grid", configs.size(), ::isatty(STDERR_FILENO) == 1);
    rows = bench::run_grid(runtime, args.model, items, configs, budget, args.quiet ? nullptr : &progress);
  }
  fmt::print("{}", bench::grid_table(rows));
  if (args.best) {
    const auto& t = rows[bench::best_throughput(rows)];
    const auto& l = rows[bench::best_latency(rows)];
    fmt::print("best throughput: {:.2f} items/s with workers={} threads={} batch={} policy={}\n  {}\n", t.throughput,
               t.workers, t.threads, t.config.batch, policy_name(t.config.policy), bench::run_command(args.model, t));
    fmt::print("best latency: p50 {:.3f} ms with workers={} threads={} batch={} policy={}\n  {}\n", l.latency.p50 * 1e3,
               l.workers, l.threads, l.config.batch, policy_name(l.config.policy), bench::run_command(args.model, l));
  }
  if (!args.csv.empty()) write_text(args.csv, bench::grid_csv(rows));
  if (!args.json.empty()) write_text(args.json, bench::grid_json(rows, args.model, budget));
  if (!args.save_config.empty()) {
    // The fastest configuration for throughput, as planned (counts, not "automatic"), for `run --config`.
    const auto& t = rows[bench::best_throughput(rows)];
    TunedConfig tuned{.workers = t.workers,
                      .threads = t.threads,
                      .batch = t.config.batch,
                      .policy = t.config.policy,
                      .model = args.model,
                      .cpus = cpu.usable_count(),
                      .cpu_model = cpu.model_name,
                      .items_per_s = t.throughput,
                      .p50_ms = t.latency.p50 * 1e3,
                      .by = fmt::format("onnxpool bench --grid {}", fmt::join(args.grid, " "))};
    with_flag("--save-config", [&] { save_tuned_config(args.save_config, tuned); });
    fmt::print("saved to {}: onnxpool run {} --config {} ...\n", args.save_config, args.model, args.save_config);
  }
  return 0;
}

int run_sweep_mode(const BenchArgs& args, Runtime& runtime, const ModelInfo& info, int workers) {
  // The pool as `run` makes it from the same flags: --workers W, or automatic (adaptive) without it.
  const PoolConfig pool = bench_pool_config(args, args.pool.config.workers);
  bench::SweepOptions options{
      .workers = workers,
      .max_n = args.max_n,
      .step_n = args.step_n,
      .repeat = args.repeat,
      .strategies =
          args.strategies.empty() ? bench::default_strategies(pool.devices) : bench::parse_strategies(args.strategies),
      .pool = pool,
      .rtol = args.rtol,
      .atol = args.atol,
      .stop = args.stop,
  };
  if (!args.tolerance_given && bench::uses_gpu(options.strategies, options.pool.devices)) {
    // CUDA's kernels sum in other orders than the CPU's (and its convolutions may use TF32): outputs
    // agree with the CPU's to about 1e-3, not to float rounding.
    options.rtol = std::max(options.rtol, kGpuTolerance);
    options.atol = std::max(options.atol, kGpuTolerance);
  }
  const auto sizes = bench::sweep_sizes(static_cast<std::size_t>(workers), args.max_n, args.step_n);
  const auto images = bench_items(info, args.inputs, args.max_n * static_cast<std::size_t>(workers));

  bench::SweepResult result;
  {
    const std::size_t steps = sizes.size() * options.strategies.size();
    Progress progress(std::cerr, "sweep", steps, ::isatty(STDERR_FILENO) == 1);
    result = bench::run_sweep(runtime, args.model, info, images, options, args.quiet ? nullptr : &progress);
  }
  fmt::print("{}", bench::sweep_table(result));
  const std::string csv = bench::sweep_csv(result);
  if (!args.csv.empty()) write_text(args.csv, csv);
  if (!args.json.empty()) write_text(args.json, bench::sweep_json(result, bench::machine_info(), args.model));
  if (!args.plot.empty()) {
    const std::string csv_path = args.csv.empty() ? args.plot + ".csv" : args.csv;
    if (args.csv.empty()) write_text(csv_path, csv);
    with_flag("--plot", [&] { bench::plot_sweep(csv_path, result.names, workers, args.plot); });
  }
  return 0;
}

}  // namespace

Command add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bench",
      "Benchmark: the ONNX Runtime multithreading tutorial's strategies against the pool, or a grid of configs");
  cmd->footer(
      "Strategies (--strategies, default all six; the default MobileNetV2 sweep takes about a minute on 2 cores):\n"
      "  sequence           1 session at ORT default threading, items one by one\n"
      "  parallel           the tutorial's: W sessions at ORT default threading, W threads, static split imgs[i::W]\n"
      "  sequence_ortvalue  sequence with inputs pre-made as OrtValues and outputs pre-allocated\n"
      "  parallel_ortvalue  parallel likewise\n"
      "  pool               onnxpool's pool as run makes it: automatic (narrow workers, one per core, and one as\n"
      "                     wide as the cores for lone items), or --workers W x --threads T, --batch B, --config\n"
      "  batched            1 default session, the N items stacked into one run (skipped without a batch dim)\n"
      "With --devices (e.g. cpu,cuda:0 or cuda:0,cuda:1), the tutorial's GPU experiment (default with a CUDA device):\n"
      "  seq_cpu            sequence under the tutorial's GPU-section name\n"
      "  seq_gpu            1 session on the first CUDA device of the list, items one by one\n"
      "  parallel           one default session per device entry, static split imgs[i::W]\n"
      "  pool               one worker per device entry (cuda:0@32 batches), dynamic queue\n"
      "  Items per worker are printed and in --json; outputs are checked to rtol=atol=1e-3 unless given.\n"
      "W (--sessions, else --workers) defaults to the tutorial's min(4, cores-1), at least 2. N runs over\n"
      "[1] + range(W, maxN*W, stepN*W); each strategy runs repN times per N, the first discarded. Outputs must equal "
      "sequence's.\n"
      "Examples:\n"
      "  onnxpool bench mobilenetv2.onnx --csv out.csv --json out.json --plot out\n"
      "  onnxpool bench resnet18.onnx --strategies sequence,pool,batched --workers 4\n"
      "  onnxpool bench mobilenetv2.onnx --grid workers=1,2 threads=1-2 batch=1,4 --best\n"
      "  onnxpool bench mobilenetv2.onnx --memory --workers 4\n"
      "  onnxpool bench resnet18.onnx --devices cpu,cuda:0 --json gpu.json");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--strategies", args->strategies, "Comma-separated strategies to run (default: all)")
      ->type_name("NAME[,NAME...]");
  cmd->add_option("--max-n", args->max_n, "maxN: N goes up to below maxN x W")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--step", args->step_n, "stepN: N grows by stepN x W")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--repeat", args->repeat, "repN: runs per N and strategy, the first a discarded warm-up")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--csv", args->csv, "Write the results as CSV (the tutorial's columns plus imgs_per_s_*)")
      ->type_name("FILE");
  cmd->add_option("--json", args->json, "Write everything as JSON (machine, options, per-strategy latency)")
      ->type_name("FILE");
  cmd->add_option("--plot", args->plot, "Plot time per image vs N with gnuplot into PREFIX.png and PREFIX.svg")
      ->type_name("PREFIX");
  cmd->add_option("--grid", args->grid,
                  "Measure the cross-product of pool configs instead of the sweep; keys workers, threads, batch "
                  "(lists 1,2,4 or ranges 1-4 / 1..4), policy (static,dynamic), pin (on,off)")
      ->type_name("KEY=VALUES")
      ->expected(1, -1);
  cmd->add_flag("--best", args->best, "With --grid: print the fastest config for throughput and for latency")
      ->needs("--grid");
  cmd->add_option("--save-config", args->save_config,
                  "With --grid: save the fastest config for throughput to FILE (JSON), for run --config FILE")
      ->type_name("FILE")
      ->check(not_empty("a file"))
      ->needs("--grid");
  cmd->add_option("--items", args->items, "With --grid: items per measured pass")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--duration", args->duration, "With --grid: measure each config for at least S seconds")
      ->type_name("S")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rtol", args->rtol, "Relative tolerance of the output check against sequence")
      ->capture_default_str();
  cmd->add_option("--atol", args->atol, "Absolute tolerance of the output check against sequence")
      ->capture_default_str();
  cmd->add_flag("--memory", args->memory,
                "Print the peak RSS after creating the pool's W workers and running a few items");
  cmd->add_flag("--no-share-weights", args->no_share_weights,
                "Each worker keeps its own copy of the weights (to measure what sharing saves)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress report");
  cmd->add_option("--sessions", args->sessions,
                  "The tutorial's W alone (parallel's sessions, the sweep's step), leaving the pool as configured: "
                  "automatic without --workers")
      ->type_name("W")
      ->check(CLI::PositiveNumber);
  add_input_options(*cmd, args->inputs);
  add_pool_options(*cmd, args->pool);

  return [args, cmd] {
    // First, before any thread starts: SIGINT/SIGTERM/SIGHUP end the measurement before its next pass;
    // the pools made so far (and their scratch folders) are undone on the way out and nothing is written
    // (the CSV, JSON and plot are written at the end, each complete or not at all).
    const SignalStop signals;
    args->stop = &signals.requested();
    try {
      Runtime runtime(ort_log_level(*cmd));
      const ModelInfo info = inspect_model(runtime, args->model);
      const int cores = CpuTopology::detect().usable_count();
      args->tolerance_given = cmd->count("--rtol") + cmd->count("--atol") > 0;
      // W: --workers, or one per entry of --devices (the tutorial's parallel over the devices), or the
      // tutorial's default. (A sum beyond any pool's is refused with the devices' names by check_machine.)
      int workers = args->pool.config.workers > 0 ? args->pool.config.workers : bench::default_workers(cores);
      if (args->sessions > 0) workers = args->sessions;
      if (!args->pool.devices.empty()) {
        long long sum = 0;
        for (const auto& device : parse_devices(args->pool.devices)) sum += device.count;
        workers = static_cast<int>(std::min(sum, kMaxWorkers + 1));
      }
      if (args->memory) return run_memory(*args, runtime, info, workers);
      if (!args->grid.empty()) return run_grid_mode(*args, runtime, info, workers);
      return run_sweep_mode(*args, runtime, info, workers);
    } catch (const bench::Interrupted&) {
      std::fflush(stdout);
      fmt::print(stderr, "onnxpool: bench interrupted; nothing written\n");
      return 128 + signals.signal();
    }
  };
}

}  // namespace onnxpool::cli
