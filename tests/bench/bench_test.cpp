// Tests of `onnxpool bench`'s library side (sweep sizes, strategies, output checks, stats, the measurement
// loop, grid, writers and their golden text, progress) and of the CLI command. Real values only, no timing
// assertions; tiny models and small N.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "onnxpool/bench/grid.hpp"
#include "onnxpool/bench/measure.hpp"
#include "onnxpool/bench/report.hpp"
#include "onnxpool/bench/stats.hpp"
#include "onnxpool/bench/strategies.hpp"
#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pipeline/progress.hpp"
#include "onnxpool/runtime/gpu.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/worker.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool::bench {
namespace {

std::filesystem::path model_path(const std::string& name) {
  return std::filesystem::path(ONNXPOOL_MODEL_DIR) / name;
}

std::vector<TensorSet> random_items(const ModelInfo& info, std::size_t count) {
  std::vector<TensorSet> items;
  for (std::size_t i = 0; i < count; ++i) items.push_back(random_inputs(info, DimBindings{}, 100 + i));
  return items;
}

SweepOptions small_sweep(std::vector<StrategyKind> strategies) {
  SweepOptions o;
  o.workers = 2;
  o.max_n = 3;  // N = 1, 2, 4
  o.step_n = 1;
  o.repeat = 2;
  o.strategies = std::move(strategies);
  o.pool.workers = 2;
  o.measure_repeat = 2;
  o.measure_number = 2;
  return o;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- the sweep's N values -------------------------------------------------------------------------

// Python's range(start, stop, step) for a positive step, written from its definition.
std::vector<std::size_t> python_range(std::size_t start, std::size_t stop, std::size_t step) {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; start + k * step < stop; ++k) out.push_back(start + k * step);
  return out;
}

TEST(SweepSizes, AreTheTutorials) {
  for (std::size_t w : {1U, 2U, 3U, 4U}) {
    for (std::size_t max_n : {1U, 2U, 5U, 21U}) {
      for (std::size_t step : {1U, 2U, 3U}) {
        std::vector<std::size_t> expected{1};
        for (std::size_t n : python_range(w, max_n * w, step * w)) expected.push_back(n);
        EXPECT_EQ(sweep_sizes(w, max_n, step), expected) << "W=" << w << " maxN=" << max_n << " stepN=" << step;
      }
    }
  }
  const auto defaults = sweep_sizes(2, 21, 2);
  EXPECT_EQ(defaults.front(), 1U);
  EXPECT_EQ(defaults[1], 2U);
  EXPECT_EQ(defaults.back(), 38U);
  EXPECT_THROW(static_cast<void>(sweep_sizes(0, 21, 2)), Error);
  EXPECT_THROW(static_cast<void>(sweep_sizes(2, 21, 0)), Error);
}

TEST(SweepSizes, DefaultWorkersIsTheTutorialsAtLeastTwo) {
  EXPECT_EQ(default_workers(1), 2);
  EXPECT_EQ(default_workers(2), 2);
  EXPECT_EQ(default_workers(4), 3);
  EXPECT_EQ(default_workers(16), 4);
}

TEST(Strategies, ParseNamesAndRejectUnknown) {
  EXPECT_EQ(parse_strategies("pool,sequence,pool"),
            (std::vector<StrategyKind>{StrategyKind::Pool, StrategyKind::Sequence}));
  EXPECT_EQ(parse_strategies("sequence_ortvalue"), std::vector<StrategyKind>{StrategyKind::SequenceOrtValue});
  try {
    static_cast<void>(parse_strategies("sequence,turbo"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'turbo'"), std::string::npos) << e.what();
  }
  for (const auto kind : all_strategies()) EXPECT_EQ(parse_strategies(strategy_name(kind)).front(), kind);
}

// --- strategies give sequence's outputs -----------------------------------------------------------

void expect_all_strategies_agree(const std::string& model_name) {
  Runtime runtime;
  const auto path = model_path(model_name);
  const ModelInfo info = inspect_model(runtime, path);
  const auto items = random_items(info, 5);

  // Independent reference: a plain Worker run item by item.
  Worker reference(runtime, path, WorkerPlan{.name = "ref", .device = {}, .cores = {}});
  std::vector<TensorSet> expected;
  for (const auto& item : items) expected.push_back(reference.run(item));

  PoolConfig pool;
  pool.workers = 2;
  for (const auto kind : all_strategies()) {
    if (kind == StrategyKind::SeqGpu) continue;  // needs a GPU: gpu_test
    for (const std::size_t batch : {std::size_t{1}, std::size_t{3}}) {
      if (batch > 1 && kind != StrategyKind::Pool) continue;
      pool.batch = batch;
      auto strategy = make_strategy(kind, runtime, path, info, 2, pool);
      ASSERT_NE(strategy, nullptr) << strategy_name(kind);
      for (int pass = 0; pass < 2; ++pass) {  // a strategy is reused across runs
        strategy->prepare(items);
        strategy->run();
        const auto outputs = strategy->outputs();
        ASSERT_EQ(outputs.size(), items.size()) << strategy_name(kind);
        EXPECT_EQ(strategy->latencies().size(), items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
          ASSERT_EQ(outputs[i].size(), expected[i].size());
          for (std::size_t k = 0; k < expected[i].size(); ++k) {
            EXPECT_EQ(outputs[i][k].name, expected[i][k].name);
            const auto c = compare(expected[i][k].tensor, outputs[i][k].tensor, 1e-4, 1e-5);
            EXPECT_TRUE(c.equal) << model_name << " " << strategy_name(kind) << " item " << i << ": " << c.problem;
          }
        }
      }
    }
  }
}

TEST(Strategies, AllAgreeWithSequenceOnTrivial) {
  expect_all_strategies_agree("trivial.onnx");
}
TEST(Strategies, AllAgreeWithSequenceOnAddMul) {
  expect_all_strategies_agree("add_mul.onnx");
}

TEST(Sweep, EveryStrategyReturnsNResultsOnMobileNetV2) {
  Runtime runtime;
  const auto path = model_path("mobilenetv2.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  SweepOptions o = small_sweep(default_strategies());
  o.max_n = 2;  // N = 1, 2: keeps the test fast
  const auto images = random_items(info, 4);
  const SweepResult r = run_sweep(runtime, path, info, images, o, nullptr);
  ASSERT_EQ(r.names.size(), 6U);
  EXPECT_EQ(r.reference, "sequence");
  ASSERT_EQ(r.rows.size(), 2U);
  for (const auto& row : r.rows) {
    ASSERT_EQ(row.timings.size(), r.names.size());
    for (const auto& p : row.timings) {
      EXPECT_EQ(p.results, row.n);
      EXPECT_GT(p.seconds, 0.0);
    }
  }
  for (const auto& s : r.strategies) {
    EXPECT_LE(s.max_abs_error, o.atol + o.rtol * 100.0) << s.name;
    EXPECT_GT(s.throughput, 0.0) << s.name;
    EXPECT_EQ(s.latency.count, 2U) << s.name;
  }
  EXPECT_GT(r.measure.average, 0.0);
  EXPECT_EQ(r.measure.repeat, 2);
}

TEST(Sweep, ReferenceFirstAndOutputsChecked) {
  Runtime runtime;
  const auto path = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto images = random_items(info, 6);
  const SweepResult r =
      run_sweep(runtime, path, info, images, small_sweep({StrategyKind::Pool, StrategyKind::Sequence}), nullptr);
  EXPECT_EQ(r.names, (std::vector<std::string>{"sequence", "pool"}));
  EXPECT_EQ(r.rows.size(), 3U);
  EXPECT_EQ(r.strategies[1].max_abs_error, 0.0);  // a + b and a * b: exact whatever the threads
}

TEST(Sweep, TooFewImagesIsAnError) {
  Runtime runtime;
  const auto path = model_path("trivial.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto images = random_items(info, 3);
  EXPECT_THROW(
      static_cast<void>(run_sweep(runtime, path, info, images, small_sweep({StrategyKind::Sequence}), nullptr)), Error);
}

TEST(Sweep, BatchedIsSkippedWithANoteOnABatchlessModel) {
  Runtime runtime;
  const auto path = model_path("batchless.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto images = random_items(info, 6);
  const SweepResult r =
      run_sweep(runtime, path, info, images, small_sweep({StrategyKind::Sequence, StrategyKind::Batched}), nullptr);
  EXPECT_EQ(r.names, std::vector<std::string>{"sequence"});
  ASSERT_EQ(r.notes.size(), 1U);
  EXPECT_NE(r.notes[0].find("batched skipped"), std::string::npos) << r.notes[0];
  EXPECT_EQ(make_strategy(StrategyKind::Batched, runtime, path, info, 2, PoolConfig{}), nullptr);
  PoolConfig batched_pool;
  batched_pool.batch = 4;
  EXPECT_THROW(static_cast<void>(make_pool_strategy(runtime, path, batched_pool)), Error);
}

// --- the tutorial's GPU experiments over --devices -------------------------------------------------

TEST(Devices, DefaultStrategiesAreTheGpuExperimentWithACudaDevice) {
  EXPECT_EQ(default_strategies().size(), 6U);
  EXPECT_EQ(default_strategies(parse_devices("cpu*2")), default_strategies());
  EXPECT_EQ(default_strategies(parse_devices("cpu,cuda:0")),
            (std::vector<StrategyKind>{StrategyKind::SeqCpu, StrategyKind::SeqGpu, StrategyKind::Parallel,
                                       StrategyKind::Pool}));
  EXPECT_EQ(parse_strategies("seq_cpu,seq_gpu"),
            (std::vector<StrategyKind>{StrategyKind::SeqCpu, StrategyKind::SeqGpu}));
  const std::vector<StrategyKind> cpu_only{StrategyKind::Sequence, StrategyKind::Parallel, StrategyKind::Pool};
  EXPECT_FALSE(uses_gpu(cpu_only, parse_devices("cpu*2")));
  EXPECT_TRUE(uses_gpu(cpu_only, parse_devices("cpu,cuda:1")));
  EXPECT_FALSE(uses_gpu(std::vector{StrategyKind::Sequence, StrategyKind::Batched}, parse_devices("cuda:0")));
  EXPECT_TRUE(uses_gpu(std::vector{StrategyKind::SeqGpu}, {}));
}

// parallel over a device list: one session per entry and the tutorial's fixed split imgs[i::W]; pool over
// the same list: every item on some worker, each once. Shares are those of the last run.
TEST(Devices, ParallelSplitsStaticallyOverTheListAndPoolCountsEveryItem) {
  Runtime runtime;
  const auto path = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto items = random_items(info, 7);
  PoolConfig config;
  config.devices = parse_devices("cpu:1*3");
  auto parallel = make_strategy(StrategyKind::Parallel, runtime, path, info, 2, config);
  auto pool = make_strategy(StrategyKind::Pool, runtime, path, info, 2, config);
  for (Strategy* strategy : {parallel.get(), pool.get()}) {
    for (const std::size_t n : {std::size_t{7}, std::size_t{4}}) {
      strategy->prepare(std::span(items).first(n));
      strategy->run();
      const auto outputs = strategy->outputs();
      ASSERT_EQ(outputs.size(), n);
      const auto shares = strategy->shares();
      ASSERT_EQ(shares.size(), 3U) << strategy->name();
      std::size_t total = 0;
      for (const auto& share : shares) {
        // The tutorial's sessions keep ORT's default threading, whatever the spec's threads.
        EXPECT_EQ(share.device, strategy == parallel.get() ? "cpu" : "cpu:1") << share.counters.name;
        EXPECT_EQ(share.counters.runs, share.counters.items) << share.counters.name;  // batch 1
        total += share.counters.items;
      }
      EXPECT_EQ(total, n) << strategy->name();
      if (strategy == parallel.get()) {
        for (std::size_t w = 0; w < 3; ++w)
          EXPECT_EQ(shares[w].counters.items, (n + 2 - w) / 3) << "worker " << w << " N=" << n;
      }
    }
  }
  EXPECT_NE(parallel->setup().find("3 sessions"), std::string::npos) << parallel->setup();
}

TEST(Devices, ShareOfASingleSessionIsEveryItem) {
  Runtime runtime;
  const auto path = model_path("trivial.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto items = random_items(info, 3);
  auto seq = make_strategy(StrategyKind::SeqCpu, runtime, path, info, 2, PoolConfig{});
  EXPECT_EQ(seq->name(), "seq_cpu");
  seq->prepare(items);
  seq->run();
  const auto shares = seq->shares();
  ASSERT_EQ(shares.size(), 1U);
  EXPECT_EQ(shares[0].counters.items, 3U);
  EXPECT_EQ(shares[0].counters.runs, 3U);
  EXPECT_EQ(shares[0].device, "cpu");
}

TEST(Devices, SweepReportsItemsPerWorker) {
  Runtime runtime;
  const auto path = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto images = random_items(info, 6);
  SweepOptions o = small_sweep({StrategyKind::SeqCpu, StrategyKind::Parallel, StrategyKind::Pool});
  o.pool.devices = parse_devices("cpu:1,cpu:1");
  o.pool.workers = 0;
  const SweepResult r = run_sweep(runtime, path, info, images, o, nullptr);
  EXPECT_EQ(r.reference, "seq_cpu");  // sequence's stand-in
  ASSERT_EQ(r.strategies.size(), 3U);
  for (const auto& s : r.strategies) {
    std::size_t total = 0;
    for (const auto& w : s.workers) total += w.counters.items;
    EXPECT_EQ(total, 4U) << s.name;  // the largest N
  }
  EXPECT_EQ(r.strategies[1].workers.size(), 2U);
  EXPECT_EQ(r.strategies[1].workers[0].counters.items, 2U);  // static: 2 and 2
  const std::string table = sweep_table(r);
  EXPECT_NE(table.find("items per worker"), std::string::npos) << table;
  EXPECT_NE(table.find("cpu#1 (cpu) 2"), std::string::npos) << table;
  const std::string json = sweep_json(r, machine_info(), "add_mul.onnx");
  EXPECT_NE(json.find("\"workers_at_max_n\""), std::string::npos);
}

TEST(Devices, SeqGpuWithoutAGpuNamesTheReason) {
  const GpuSupport gpu = probe_gpu();
  if (gpu.usable()) GTEST_SKIP() << "a GPU is usable here: gpu_test covers seq_gpu";
  Runtime runtime;
  const auto path = model_path("trivial.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  try {
    static_cast<void>(make_strategy(StrategyKind::SeqGpu, runtime, path, info, 2, PoolConfig{}));
    FAIL() << "seq_gpu made without a GPU";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cuda:0"), std::string::npos) << what;
    EXPECT_NE(what.find(gpu.reason), std::string::npos) << what;
  }
}

// --- writers --------------------------------------------------------------------------------------

TEST(Report, CsvHasTheTutorialsColumnsPlusThroughput) {
  Runtime runtime;
  const auto path = model_path("trivial.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto images = random_items(info, 6);
  const SweepResult r =
      run_sweep(runtime, path, info, images, small_sweep({StrategyKind::Sequence, StrategyKind::Parallel}), nullptr);
  const std::string csv = sweep_csv(r);
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_EQ(header,
            "n_imgs,maxN,stepN,repN,batch_size,n_threads,n_imgs_sequence,time_sequence,n_imgs_parallel,time_parallel,"
            "imgs_per_s_sequence,imgs_per_s_parallel");
  // One line per N, each starting with n_imgs=maxN*W, maxN, stepN, repN, N, W.
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].substr(0, 14), "6,3,1,2,1,2,1,");
  EXPECT_EQ(rows[2].substr(0, 14), "6,3,1,2,4,2,4,");
  EXPECT_NE(sweep_json(r, machine_info(), "trivial.onnx").find("\"onnxruntime_version\""), std::string::npos);
  EXPECT_NE(sweep_table(r).find("measure_time"), std::string::npos);
}

TEST(Report, GnuplotScriptPlotsEveryStrategy) {
  const std::vector<std::string> names{"sequence", "pool"};
  const std::string script = gnuplot_script("r.csv", names, 2, "r.png", "r.svg");
  EXPECT_NE(script.find("Time per image / batch size (n_threads=2)"), std::string::npos);
  EXPECT_NE(script.find("names = 'sequence pool'"), std::string::npos);
  EXPECT_NE(script.find("set logscale y"), std::string::npos);
}

// --- golden text of the printers -------------------------------------------------------------------

WorkerShare share(const std::string& name, const std::string& device, std::size_t items, std::size_t runs,
                  double busy) {
  WorkerShare w;
  w.counters.name = name;
  w.counters.items = items;
  w.counters.runs = runs;
  w.counters.busy_seconds = busy;
  w.device = device;
  return w;
}

// A made-up sweep touching every printed field: exponents, a zero time (0 items/s), a strategy whose
// workers stack items (runs != items), notes.
SweepResult golden_sweep() {
  SweepResult r;
  r.options = small_sweep({StrategyKind::Sequence, StrategyKind::Pool});
  r.options.pool.threads = 1;
  r.options.pool.batch = 4;
  r.options.pool.pin = true;
  r.options.pool.spinning = false;
  r.n_imgs = 6;
  r.reference = "sequence";
  r.names = {"sequence", "pool"};
  StrategyReport sequence;
  sequence.name = "sequence";
  sequence.description = "1 session at ORT default threading, items one by one";
  sequence.throughput = 812.3456789;
  sequence.latency = {.count = 4,
                      .mean = 0.00123,
                      .stddev = 2.5e-05,
                      .min = 0.0012,
                      .max = 0.00127,
                      .p50 = 0.001225,
                      .p90 = 0.001262,
                      .p99 = 0.0012693};
  sequence.workers = {share("sequence", "cpu", 4, 4, 0.00492)};
  StrategyReport pool;
  pool.name = "pool";
  pool.description = "2 workers x 1 thread, dynamic, batch 4";
  pool.max_abs_error = 1.1920929e-07;
  pool.max_rel_error = 3.5e-08;
  pool.throughput = 1234567.891;
  pool.latency = {.count = 4,
                  .mean = 0.0021,
                  .stddev = 0.0003,
                  .min = 0.0018,
                  .max = 0.0024,
                  .p50 = 0.0021,
                  .p90 = 0.00234,
                  .p99 = 0.002394};
  pool.workers = {share("pool:cpu#0", "cpu", 3, 1, 0.0024), share("pool:cpu#1", "cpu", 1, 1, 0.0018)};
  r.strategies = {sequence, pool};
  r.rows = {{.n = 1,
             .timings = {{.results = 1, .seconds = 0.00123456789012, .stddev = 1.5e-05},
                         {.results = 1, .seconds = 0.0, .stddev = 0.0}}},
            {.n = 2,
             .timings = {{.results = 2, .seconds = 0.0024691357, .stddev = 0.0},
                         {.results = 2, .seconds = 1.25e-06, .stddev = 3e-07}}},
            {.n = 4,
             .timings = {{.results = 4, .seconds = 0.0049238, .stddev = 0.000123},
                         {.results = 4, .seconds = 3.24e-06, .stddev = 1e-07}}}};
  r.notes = {"batched skipped: 'x' has no batch dim", "sequence not selected"};
  r.measure = {
      .average = 0.0011999, .deviation = 3.3e-05, .min_exec = 0.00115, .max_exec = 0.00131, .repeat = 2, .number = 2};
  return r;
}

const MachineInfo kGoldenMachine{
    .logical_cores = 2, .physical_cores = 1, .cpu_model = "Example CPU @ 2.00GHz", .ort_version = "1.20.1"};

std::vector<GridRow> golden_grid() {
  PoolConfig pinned_static;
  pinned_static.workers = 2;
  pinned_static.batch = 4;
  pinned_static.policy = Policy::Static;
  pinned_static.pin = true;
  return {
      {.config = {},
       .workers = 1,
       .threads = 2,
       .items = 8,
       .seconds = 0.0123456789,
       .throughput = 648.000006,
       .latency = {.count = 8,
                   .mean = 0.0015,
                   .stddev = 0.0001,
                   .min = 0.0013,
                   .max = 0.0017,
                   .p50 = 0.00149,
                   .p90 = 0.00166,
                   .p99 = 0.001694}},
      {.config = pinned_static,
       .workers = 2,
       .threads = 1,
       .items = 16,
       .seconds = 1.5,
       .throughput = 10.6666667,
       .latency = {.count = 16,
                   .mean = 0.25,
                   .stddev = 0.01,
                   .min = 0.2,
                   .max = 0.3,
                   .p50 = 0.25,
                   .p90 = 0.29,
                   .p99 = 0.2999}},
      {.config = {},
       .workers = 2,
       .threads = 2,
       .items = 8,
       .seconds = 1.2e-06,
       .throughput = 6666666.67,
       .latency = {.count = 8,
                   .mean = 1e-07,
                   .stddev = 0.0,
                   .min = 1e-07,
                   .max = 1e-07,
                   .p50 = 1e-07,
                   .p90 = 1e-07,
                   .p99 = 1e-07}},
  };
}

const GridBudget kGoldenBudget{.items = 8, .duration = 0.5, .warmup = 1};

// The printers' full text for the made-up results above, captured from the writers as they were before
// each result declared its fields once (issue 8): every CSV column, JSON key and table column must stay
// where users' code and bench/summarize*.py find it.
TEST(Golden, SweepCsvJsonAndTable) {
  const SweepResult r = golden_sweep();
  EXPECT_EQ(
      sweep_csv(r),
      R"golden(n_imgs,maxN,stepN,repN,batch_size,n_threads,n_imgs_sequence,time_sequence,n_imgs_pool,time_pool,imgs_per_s_sequence,imgs_per_s_pool
6,3,1,2,1,2,1,0.00123456789,1,0,810,0
6,3,1,2,2,2,2,0.0024691357,2,1.25e-06,810,1.6e+06
6,3,1,2,4,2,4,0.0049238,4,3.24e-06,812.381,1.23457e+06
)golden");
  EXPECT_EQ(sweep_json(r, kGoldenMachine, "models/m.onnx"), R"golden({
  "machine": {
    "cpu_model": "Example CPU @ 2.00GHz",
    "logical_cores": 2,
    "onnxruntime_version": "1.20.1",
    "physical_cores": 1
  },
  "measure_time": {
    "average": 0.0011999,
    "deviation": 3.3e-05,
    "max_exec": 0.00131,
    "min_exec": 0.00115,
    "number": 2,
    "repeat": 2
  },
  "model": "models/m.onnx",
  "notes": [
    "batched skipped: 'x' has no batch dim",
    "sequence not selected"
  ],
  "options": {
    "atol": 1e-05,
    "maxN": 3,
    "n_imgs": 6,
    "pool": {
      "batch": 4,
      "pin": true,
      "policy": "dynamic",
      "spinning": false,
      "threads": 1,
      "workers": 2
    },
    "repN": 2,
    "rtol": 0.0001,
    "stepN": 1,
    "workers": 2
  },
  "reference": "sequence",
  "rows": [
    {
      "batch_size": 1,
      "pool": {
        "imgs_per_s": 0.0,
        "n_imgs": 1,
        "stddev": 0.0,
        "time": 0.0
      },
      "sequence": {
        "imgs_per_s": 810.000007292268,
        "n_imgs": 1,
        "stddev": 1.5e-05,
        "time": 0.00123456789012
      }
    },
    {
      "batch_size": 2,
      "pool": {
        "imgs_per_s": 1599999.9999999998,
        "n_imgs": 2,
        "stddev": 3e-07,
        "time": 1.25e-06
      },
      "sequence": {
        "imgs_per_s": 810.0000336150014,
        "n_imgs": 2,
        "stddev": 0.0,
        "time": 0.0024691357
      }
    },
    {
      "batch_size": 4,
      "pool": {
        "imgs_per_s": 1234567.9012345679,
        "n_imgs": 4,
        "stddev": 1e-07,
        "time": 3.24e-06
      },
      "sequence": {
        "imgs_per_s": 812.3806815873919,
        "n_imgs": 4,
        "stddev": 0.000123,
        "time": 0.0049238
      }
    }
  ],
  "strategies": [
    {
      "description": "1 session at ORT default threading, items one by one",
      "latency_at_max_n": {
        "count": 4,
        "max": 0.00127,
        "mean": 0.00123,
        "min": 0.0012,
        "p50": 0.001225,
        "p90": 0.001262,
        "p99": 0.0012693,
        "stddev": 2.5e-05
      },
      "max_abs_error": 0.0,
      "max_rel_error": 0.0,
      "name": "sequence",
      "throughput_at_max_n": 812.3456789,
      "workers_at_max_n": [
        {
          "busy_seconds": 0.00492,
          "device": "cpu",
          "items": 4,
          "name": "sequence",
          "runs": 4
        }
      ]
    },
    {
      "description": "2 workers x 1 thread, dynamic, batch 4",
      "latency_at_max_n": {
        "count": 4,
        "max": 0.0024,
        "mean": 0.0021,
        "min": 0.0018,
        "p50": 0.0021,
        "p90": 0.00234,
        "p99": 0.002394,
        "stddev": 0.0003
      },
      "max_abs_error": 1.1920929e-07,
      "max_rel_error": 3.5e-08,
      "name": "pool",
      "throughput_at_max_n": 1234567.891,
      "workers_at_max_n": [
        {
          "busy_seconds": 0.0024,
          "device": "cpu",
          "items": 3,
          "name": "pool:cpu#0",
          "runs": 1
        },
        {
          "busy_seconds": 0.0018,
          "device": "cpu",
          "items": 1,
          "name": "pool:cpu#1",
          "runs": 1
        }
      ]
    }
  ]
}
)golden");
  EXPECT_EQ(
      sweep_table(r),
      R"golden(measure_time (1 item, sequence session): average 1.200 ms, deviation 0.033 ms, min_exec 1.150 ms, max_exec 1.310 ms, repeat 2, number 2

items/s by N (W=2):
     N           sequence               pool
     1             810.00               0.00
     2             810.00         1600000.00
     4             812.38         1234567.90

at N=4 (sequence outputs are the reference):
strategy              items/s    vs ref    p50 ms    p90 ms    p99 ms     max err  how
sequence               812.35     1.00x     1.225     1.262     1.269           0  1 session at ORT default threading, items one by one
pool               1234567.89  1519.76x     2.100     2.340     2.394    1.19e-07  2 workers x 1 thread, dynamic, batch 4

items per worker in the last run at that N:
pool               cpu#0 (cpu) 3 in 1 runs, cpu#1 (cpu) 1
note: batched skipped: 'x' has no batch dim
note: sequence not selected
)golden");
}

TEST(Golden, GridCsvJsonAndTable) {
  const auto rows = golden_grid();
  EXPECT_EQ(
      grid_csv(rows),
      R"golden(workers,threads,batch,policy,pin,items,seconds,items_per_s,latency_p50,latency_p90,latency_p99,latency_mean
1,2,1,dynamic,off,8,0.0123457,648,0.00149,0.00166,0.001694,0.0015
2,1,4,static,on,16,1.5,10.6667,0.25,0.29,0.2999,0.25
2,2,1,dynamic,off,8,1.2e-06,6.66667e+06,1e-07,1e-07,1e-07,1e-07
)golden");
  EXPECT_EQ(grid_json(rows, "models/m.onnx", kGoldenBudget), R"golden({
  "best_latency": 2,
  "best_throughput": 2,
  "budget": {
    "duration": 0.5,
    "items": 8,
    "warmup": 1
  },
  "configs": [
    {
      "batch": 1,
      "items": 8,
      "items_per_s": 648.000006,
      "latency": {
        "count": 8,
        "max": 0.0017,
        "mean": 0.0015,
        "min": 0.0013,
        "p50": 0.00149,
        "p90": 0.00166,
        "p99": 0.001694,
        "stddev": 0.0001
      },
      "pin": false,
      "policy": "dynamic",
      "seconds": 0.0123456789,
      "threads": 2,
      "workers": 1
    },
    {
      "batch": 4,
      "items": 16,
      "items_per_s": 10.6666667,
      "latency": {
        "count": 16,
        "max": 0.3,
        "mean": 0.25,
        "min": 0.2,
        "p50": 0.25,
        "p90": 0.29,
        "p99": 0.2999,
        "stddev": 0.01
      },
      "pin": true,
      "policy": "static",
      "seconds": 1.5,
      "threads": 1,
      "workers": 2
    },
    {
      "batch": 1,
      "items": 8,
      "items_per_s": 6666666.67,
      "latency": {
        "count": 8,
        "max": 1e-07,
        "mean": 1e-07,
        "min": 1e-07,
        "p50": 1e-07,
        "p90": 1e-07,
        "p99": 1e-07,
        "stddev": 0.0
      },
      "pin": false,
      "policy": "dynamic",
      "seconds": 1.2e-06,
      "threads": 2,
      "workers": 2
    }
  ],
  "model": "models/m.onnx"
}
)golden");
  EXPECT_EQ(grid_table(rows),
            R"golden(workers threads batch  policy  pin  items    items/s    p50 ms    p90 ms    p99 ms
      1       2     1 dynamic  off      8     648.00     1.490     1.660     1.694
      2       1     4  static   on     16      10.67   250.000   290.000   299.900
      2       2     1 dynamic  off      8 6666666.67     0.000     0.000     0.000
)golden");
}

TEST(Golden, EmptyResults) {
  EXPECT_EQ(sweep_csv(SweepResult{}), "n_imgs,maxN,stepN,repN,batch_size,n_threads\n");
  EXPECT_EQ(
      sweep_table(SweepResult{}),
      R"golden(measure_time (1 item,  session): average 0.000 ms, deviation 0.000 ms, min_exec 0.000 ms, max_exec 0.000 ms, repeat 0, number 0

items/s by N (W=2):
     N

at N=0 ( outputs are the reference):
strategy              items/s    vs ref    p50 ms    p90 ms    p99 ms     max err  how
)golden");
  EXPECT_EQ(sweep_json(SweepResult{}, kGoldenMachine, "m.onnx"), R"golden({
  "machine": {
    "cpu_model": "Example CPU @ 2.00GHz",
    "logical_cores": 2,
    "onnxruntime_version": "1.20.1",
    "physical_cores": 1
  },
  "measure_time": {
    "average": 0.0,
    "deviation": 0.0,
    "max_exec": 0.0,
    "min_exec": 0.0,
    "number": 0,
    "repeat": 0
  },
  "model": "m.onnx",
  "notes": [],
  "options": {
    "atol": 1e-05,
    "maxN": 21,
    "n_imgs": 0,
    "pool": {
      "batch": 1,
      "pin": false,
      "policy": "dynamic",
      "spinning": false,
      "threads": 0,
      "workers": 0
    },
    "repN": 4,
    "rtol": 0.0001,
    "stepN": 2,
    "workers": 2
  },
  "reference": "",
  "rows": [],
  "strategies": []
}
)golden");
  const std::vector<GridRow> none;
  EXPECT_EQ(
      grid_csv(none),
      R"golden(workers,threads,batch,policy,pin,items,seconds,items_per_s,latency_p50,latency_p90,latency_p99,latency_mean
)golden");
  EXPECT_EQ(grid_table(none),
            R"golden(workers threads batch  policy  pin  items    items/s    p50 ms    p90 ms    p99 ms
)golden");
  EXPECT_EQ(grid_json(none, "m.onnx", kGoldenBudget), R"golden({
  "budget": {
    "duration": 0.5,
    "items": 8,
    "warmup": 1
  },
  "configs": [],
  "model": "m.onnx"
}
)golden");
}

TEST(Golden, CsvColumnsAndGnuplotScript) {
  const std::vector<std::string> names{"sequence", "pool"};
  EXPECT_EQ(csv_columns(names), (std::vector<std::string>{"n_imgs", "maxN", "stepN", "repN", "batch_size", "n_threads",
                                                          "n_imgs_sequence", "time_sequence", "n_imgs_pool",
                                                          "time_pool", "imgs_per_s_sequence", "imgs_per_s_pool"}));
  EXPECT_EQ(gnuplot_script("dir/it's.csv", names, 3, "o.png", "o.svg"), R"golden(set datafile separator ','
set title 'Time per image / batch size (n_threads=3)'
set xlabel 'batch size (N images)'
set ylabel 'seconds per image'
set logscale y
set grid
set key outside right
names = 'sequence pool'
csv = 'dir/it''s.csv'
set terminal pngcairo size 900,560 noenhanced
set output 'o.png'
plot for [s in names] csv using 'batch_size':(column('time_'.s)/column('batch_size')) with linespoints title s
set terminal svg size 900,560 dynamic noenhanced
set output 'o.svg'
plot for [s in names] csv using 'batch_size':(column('time_'.s)/column('batch_size')) with linespoints title s
unset output
)golden");
}

// --- stats ----------------------------------------------------------------------------------------

TEST(Stats, PercentilesOfKnownSamples) {
  const std::vector<double> ten{10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(percentile(ten, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(ten, 50), 5.5);
  EXPECT_DOUBLE_EQ(percentile(ten, 90), 9.1);
  EXPECT_DOUBLE_EQ(percentile(ten, 100), 10.0);
  const std::vector<double> one{3.0};
  EXPECT_DOUBLE_EQ(percentile(one, 99), 3.0);
  EXPECT_THROW(static_cast<void>(percentile(std::vector<double>{}, 50)), Error);
  EXPECT_THROW(static_cast<void>(percentile(ten, 101)), Error);

  const std::vector<double> classic{2, 4, 4, 4, 5, 5, 7, 9};
  const Summary s = summarize(classic);
  EXPECT_EQ(s.count, 8U);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.stddev, 2.0);
  EXPECT_DOUBLE_EQ(s.min, 2.0);
  EXPECT_DOUBLE_EQ(s.max, 9.0);
  EXPECT_DOUBLE_EQ(s.p50, 4.5);
  EXPECT_EQ(summarize(std::vector<double>{}).count, 0U);
}

TEST(Stats, MeasureTimeCountsCalls) {
  int calls = 0;
  const MeasureTime m = measure_time([&] { ++calls; }, 3, 5);
  EXPECT_EQ(calls, 15);
  EXPECT_EQ(m.repeat, 3);
  EXPECT_EQ(m.number, 5);
  EXPECT_LE(m.min_exec, m.average);
  EXPECT_LE(m.average, m.max_exec);
  EXPECT_THROW(static_cast<void>(measure_time([] {}, 0, 1)), Error);
}

// --- the measurement loop -------------------------------------------------------------------------

TEST(Measure, WarmsUpThenTimesAndRecordsOnlyTimedPasses) {
  std::vector<std::string> steps;
  const Pass pass{.prepare = [&](bool warmup) { steps.push_back(warmup ? "prepare warm" : "prepare"); },
                  .run = [&](bool warmup) { steps.push_back(warmup ? "run warm" : "run"); },
                  .record = [&] { steps.push_back("record"); }};
  const auto seconds = measure(pass, {.warmup = 2, .timed = 3});
  EXPECT_EQ(seconds.size(), 3U);
  for (const double s : seconds) EXPECT_GE(s, 0.0);
  EXPECT_EQ(steps, (std::vector<std::string>{"prepare warm", "run warm", "prepare warm", "run warm", "prepare", "run",
                                             "record", "prepare", "run", "record", "prepare", "run", "record"}));
  // prepare and record are optional.
  int runs = 0;
  EXPECT_EQ(measure({.run = [&](bool) { ++runs; }}, {}).size(), 1U);
  EXPECT_EQ(runs, 1);
  EXPECT_THROW(static_cast<void>(measure({.run = [](bool) {}}, {.warmup = 1, .timed = 0})), Error);
}

TEST(Measure, ADurationAddsPassesUntilTheTimedOnesLastIt) {
  const double duration = 0.01;
  const auto seconds = measure({.run = [](bool) { std::this_thread::sleep_for(std::chrono::milliseconds(1)); }},
                               {.warmup = 0, .timed = 2, .duration = duration});
  EXPECT_GE(seconds.size(), 2U);
  double total = 0.0;
  for (const double s : seconds) total += s;
  EXPECT_GE(total, duration);
  // Without the last pass it fell short: it stops as soon as the time is reached.
  if (seconds.size() > 2) {
    EXPECT_LT(total - seconds.back(), duration);
  }
}

// --- progress -------------------------------------------------------------------------------------

// --- grid -----------------------------------------------------------------------------------------

TEST(Grid, ParsesListsAndRanges) {
  EXPECT_EQ(parse_grid_axis("workers=1,2,4").values, (std::vector<std::string>{"1", "2", "4"}));
  EXPECT_EQ(parse_grid_axis("threads=1-4").values, (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(parse_grid_axis("batch=2..4").values, (std::vector<std::string>{"2", "3", "4"}));
  EXPECT_EQ(parse_grid_axis("batch=1,4-5,8").values, (std::vector<std::string>{"1", "4", "5", "8"}));
  EXPECT_EQ(parse_grid_axis("policy=static,dynamic").values.size(), 2U);
  EXPECT_EQ(parse_grid_axis("pin=on,off").key, "pin");
}

TEST(Grid, BadSpecsNameTheKey) {
  const auto message = [](const std::string& spec) {
    try {
      static_cast<void>(parse_grid_axis(spec));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("cores=1,2").find("'cores'"), std::string::npos);
  EXPECT_NE(message("workers=0").find("workers"), std::string::npos);
  EXPECT_NE(message("threads=4-1").find("threads"), std::string::npos);
  EXPECT_NE(message("batch=a").find("batch"), std::string::npos);
  EXPECT_NE(message("batch=1,,2").find("batch"), std::string::npos);
  EXPECT_NE(message("policy=greedy").find("greedy"), std::string::npos);
  EXPECT_NE(message("pin=maybe").find("pin"), std::string::npos);
  EXPECT_NE(message("workers").find("KEY=VALUES"), std::string::npos);
  const std::vector<GridAxis> twice{parse_grid_axis("workers=1"), parse_grid_axis("workers=2")};
  EXPECT_THROW(static_cast<void>(expand_grid(twice, PoolConfig{})), Error);
}

TEST(Grid, ErrorsAreOneLineWhateverTheSpec) {
  // Found by tests/fuzz/grammars_fuzz.cpp (corpus/grammars/regress-grid-newline): the spec was quoted as
  // given, newline and all.
  for (const std::string spec : {"n\n", "workers=1\n", "threads=4-1\r", "pin=on,\n", "batch=1,,\n"}) {
    try {
      static_cast<void>(parse_grid_axis(spec));
      ADD_FAILURE() << "no error for " << spec;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find_first_of("\r\n"), std::string::npos) << e.what();
    }
  }
}

TEST(Grid, ExpandsTheCrossProduct) {
  const std::vector<GridAxis> axes{parse_grid_axis("workers=1,2"), parse_grid_axis("threads=1-2"),
                                   parse_grid_axis("batch=1,4,8")};
  PoolConfig base;
  base.pin = true;
  const auto configs = expand_grid(axes, base);
  ASSERT_EQ(configs.size(), 12U);
  EXPECT_EQ(configs[0].workers, 1);
  EXPECT_EQ(configs[0].threads, 1);
  EXPECT_EQ(configs[0].batch, 1U);
  EXPECT_EQ(configs[1].batch, 4U);
  EXPECT_EQ(configs[11].workers, 2);
  EXPECT_EQ(configs[11].threads, 2);
  EXPECT_EQ(configs[11].batch, 8U);
  for (const auto& c : configs) EXPECT_TRUE(c.pin);
}

TEST(Grid, BestPicksMaxThroughputAndMinLatency) {
  std::vector<GridRow> rows(3);
  rows[0].throughput = 100;
  rows[0].latency.p50 = 0.010;
  rows[1].throughput = 250;
  rows[1].latency.p50 = 0.020;
  rows[1].workers = 2;
  rows[1].threads = 1;
  rows[1].items = 64;
  rows[1].config.batch = 4;
  rows[2].throughput = 180;
  rows[2].latency.p50 = 0.005;
  EXPECT_EQ(best_throughput(rows), 1U);
  EXPECT_EQ(best_latency(rows), 2U);
  EXPECT_EQ(run_command("m.onnx", rows[1]),
            "onnxpool run m.onnx --random 64 --workers 2 --threads 1 --batch 4 --policy dynamic");
  EXPECT_THROW(static_cast<void>(best_throughput(std::vector<GridRow>{})), Error);
}

TEST(Grid, MeasuresEachConfig) {
  Runtime runtime;
  const auto path = model_path("trivial.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto items = random_items(info, 8);
  const std::vector<GridAxis> axes{parse_grid_axis("workers=1,2"), parse_grid_axis("batch=1,4")};
  const auto configs = expand_grid(axes, PoolConfig{});
  const GridBudget budget{.items = 8, .duration = 0.0, .warmup = 1};
  const auto rows = run_grid(runtime, path, items, configs, budget, nullptr);
  ASSERT_EQ(rows.size(), 4U);
  for (const auto& r : rows) {
    EXPECT_EQ(r.items, 8U);
    EXPECT_GT(r.throughput, 0.0);
    EXPECT_EQ(r.latency.count, 8U);
  }
  EXPECT_EQ(rows[2].workers, 2);
  EXPECT_EQ(grid_csv(rows).substr(0, 22), "workers,threads,batch,");
}

// --- CLI ------------------------------------------------------------------------------------------

int run_cli(const std::string& arguments, const std::filesystem::path& log) {
  const std::string command = std::string(ONNXPOOL_CLI) + " " + arguments + " > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Cli, BenchWritesCsvAndJson) {
  if (std::string(ONNXPOOL_CLI).empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  const auto model = model_path("trivial.onnx");
  EXPECT_EQ(run_cli("bench '" + model.string() + "' --max-n 2 --repeat 2 --strategies sequence,pool --csv '" +
                        (dir / "r.csv").string() + "' --json '" + (dir / "r.json").string() + "'",
                    dir / "log"),
            0)
      << read_text(dir / "log");
  const std::string csv = read_text(dir / "r.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "n_imgs,maxN,stepN,repN,batch_size,n_threads,n_imgs_sequence,time_sequence,n_imgs_pool,time_pool,"
            "imgs_per_s_sequence,imgs_per_s_pool");
  EXPECT_NE(read_text(dir / "r.json").find("\"strategies\""), std::string::npos);
  // Not a terminal: plain progress lines.
  EXPECT_NE(read_text(dir / "log").find("sweep: 1/"), std::string::npos);
}

TEST(Cli, BenchOverDevicesPrintsItemsPerWorker) {
  if (std::string(ONNXPOOL_CLI).empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  const auto model = model_path("trivial.onnx");
  EXPECT_EQ(run_cli("bench '" + model.string() +
                        "' -q --max-n 2 --repeat 2 --devices cpu:1,cpu:1 --strategies seq_cpu,parallel,pool",
                    dir / "log"),
            0)
      << read_text(dir / "log");
  const std::string log = read_text(dir / "log");
  // W = the two devices: N = 1, 2; static split of N=2 gives one item each.
  EXPECT_NE(log.find("items/s by N (W=2)"), std::string::npos) << log;
  EXPECT_NE(log.find("parallel           cpu#0 (cpu) 1, cpu#1 (cpu) 1"), std::string::npos) << log;
  EXPECT_NE(log.find("pool               cpu#0 (cpu:1)"), std::string::npos) << log;
}

TEST(Cli, BenchErrorsAreOneLine) {
  if (std::string(ONNXPOOL_CLI).empty()) GTEST_SKIP() << "CLI not built";
  test::TempDir dir;
  const auto model = model_path("trivial.onnx").string();
  EXPECT_EQ(run_cli("bench '" + model + "' --strategies sequence,warp", dir / "log"), 1);
  EXPECT_NE(read_text(dir / "log").find("onnxpool: error: unknown strategy 'warp'"), std::string::npos)
      << read_text(dir / "log");
  EXPECT_EQ(run_cli("bench '" + model + "' --grid cores=1,2", dir / "log"), 1);
  EXPECT_NE(read_text(dir / "log").find("unknown key 'cores'"), std::string::npos) << read_text(dir / "log");
  if (!probe_gpu().usable()) {
    EXPECT_EQ(run_cli("bench '" + model + "' --devices cpu,cuda:0", dir / "log"), 1);
    const std::string log = read_text(dir / "log");
    EXPECT_NE(log.find("onnxpool: error: "), std::string::npos) << log;
    EXPECT_NE(log.find("cuda:0 asked"), std::string::npos) << log;
  }
  EXPECT_EQ(run_cli("bench '" + model_path("batchless.onnx").string() + "' --batch 4", dir / "log"), 1);
  EXPECT_NE(read_text(dir / "log").find("--batch 4"), std::string::npos) << read_text(dir / "log");
}

}  // namespace
}  // namespace onnxpool::bench
