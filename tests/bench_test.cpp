// Tests of `onnxpool bench`'s library side (sweep sizes, strategies, output checks, stats, grid, writers,
// progress) and of the CLI command. Real values only, no timing assertions; tiny models and small N.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "onnxpool/bench.hpp"
#include "onnxpool/bench_grid.hpp"
#include "onnxpool/bench_progress.hpp"
#include "onnxpool/bench_report.hpp"
#include "onnxpool/bench_stats.hpp"
#include "onnxpool/gpu.hpp"
#include "onnxpool/inputs.hpp"
#include "onnxpool/model.hpp"
#include "onnxpool/runtime.hpp"
#include "onnxpool/worker.hpp"
#include "temp_dir.hpp"

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
  Worker reference(runtime, path, WorkerOptions{}, "ref");
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
    ASSERT_EQ(row.points.size(), r.names.size());
    for (const auto& p : row.points) {
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
  EXPECT_THROW(static_cast<void>(make_pool_strategy(runtime, path, info, batched_pool)), Error);
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
        EXPECT_EQ(share.device, strategy == parallel.get() ? "cpu" : "cpu:1") << share.name;
        EXPECT_EQ(share.runs, share.items) << share.name;  // batch 1
        total += share.items;
      }
      EXPECT_EQ(total, n) << strategy->name();
      if (strategy == parallel.get()) {
        for (std::size_t w = 0; w < 3; ++w) EXPECT_EQ(shares[w].items, (n + 2 - w) / 3) << "worker " << w << " N=" << n;
      }
    }
  }
  EXPECT_NE(parallel->describe().find("3 sessions"), std::string::npos) << parallel->describe();
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
  EXPECT_EQ(shares[0].items, 3U);
  EXPECT_EQ(shares[0].runs, 3U);
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
    for (const auto& w : s.workers) total += w.items;
    EXPECT_EQ(total, 4U) << s.name;  // the largest N
  }
  EXPECT_EQ(r.strategies[1].workers.size(), 2U);
  EXPECT_EQ(r.strategies[1].workers[0].items, 2U);  // static: 2 and 2
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

// --- progress -------------------------------------------------------------------------------------

TEST(Progress, PlainModePrintsOneLinePerStep) {
  std::ostringstream out;
  {
    Progress progress(out, "sweep", 3, false);
    progress.advance("sequence N=1");
    progress.advance("pool N=1");
    progress.advance("pool N=2");
  }
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0].rfind("sweep: 1/3 [", 0), 0U) << all[0];
  EXPECT_NE(all[0].find("sequence N=1"), std::string::npos);
  EXPECT_EQ(all[2].rfind("sweep: 3/3 [", 0), 0U) << all[2];
  EXPECT_NE(all[2].find("it/s]"), std::string::npos);
}

TEST(Progress, TerminalModeDrawsABar) {
  std::ostringstream out;
  Progress progress(out, "grid", 4, true);
  EXPECT_EQ(progress.render(2, 4.0, "x"), "grid  50%|############            | 2/4 [00:04<00:04, 0.50 it/s] x");
  EXPECT_EQ(format_clock(3725), "1:02:05");
  EXPECT_EQ(format_clock(65), "01:05");
}

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
  const auto rows = run_grid(runtime, path, info, items, configs, budget, nullptr);
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
