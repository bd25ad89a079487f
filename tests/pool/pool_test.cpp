// Pool and Worker on real models: outputs equal a single session's (bitwise on CPU with the same
// thread count), order kept under both policies, batching, failures named and isolated.
#include "onnxpool/pool/pool.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/worker.hpp"
#include "support/model_paths.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<TensorSet> random_items(Runtime& runtime, const std::string& model_file, int count,
                                    DimBindings bindings = {}) {
  const ModelInfo model = inspect_model(runtime, model_path(model_file));
  std::vector<TensorSet> items;
  for (int i = 0; i < count; ++i) items.push_back(random_inputs(model, bindings, 100 + static_cast<std::uint64_t>(i)));
  return items;
}

// One session, one thread, items one after another: the reference.
std::vector<TensorSet> reference(Runtime& runtime, const std::string& model_file, const std::vector<TensorSet>& items) {
  Worker worker(runtime, model_path(model_file), WorkerPlan{.name = "reference", .threads = 1});
  std::vector<TensorSet> outputs;
  for (const auto& item : items) outputs.push_back(worker.run(item));
  return outputs;
}

void expect_bitwise_equal(const std::vector<TensorSet>& expected, const std::vector<TensorSet>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(expected[i].size(), actual[i].size());
    for (std::size_t k = 0; k < expected[i].size(); ++k) {
      EXPECT_EQ(expected[i][k].name, actual[i][k].name);
      EXPECT_TRUE(expected[i][k].tensor == actual[i][k].tensor) << "item " << i << " output " << expected[i][k].name;
    }
  }
}

class PoolOnMobileNet : public ::testing::TestWithParam<std::tuple<int, Policy>> {};

TEST_P(PoolOnMobileNet, OutputsEqualOneSessionsInInputOrder) {
  const auto [workers, policy] = GetParam();
  Runtime runtime;
  const auto items = random_items(runtime, "mobilenetv2.onnx", 6);
  const auto expected = reference(runtime, "mobilenetv2.onnx", items);
  // Distinct inputs give distinct outputs, so equality item by item also proves the order.
  ASSERT_FALSE(expected[0][0].tensor == expected[1][0].tensor);

  PoolConfig options;
  options.workers = workers;
  options.threads = 1;
  options.policy = policy;
  Pool pool(runtime, model_path("mobilenetv2.onnx"), options);
  ASSERT_EQ(pool.size(), static_cast<std::size_t>(workers));
  expect_bitwise_equal(expected, pool.run_all(items));

  std::size_t total = 0;
  for (const auto& s : pool.stats()) total += s.items;
  EXPECT_EQ(total, items.size());
}

INSTANTIATE_TEST_SUITE_P(WorkersAndPolicies, PoolOnMobileNet,
                         ::testing::Combine(::testing::Values(1, 2, 3),
                                            ::testing::Values(Policy::Static, Policy::Dynamic)));

// The automatic pool (narrow workers and one as wide as the cores): items one at a time run on the wide
// worker, a burst on the narrow ones (the wide one may take the last); outputs equal one session's.
TEST(Pool, AutomaticPoolRunsLoneItemsWideAndABurstNarrow) {
  Runtime runtime;
  Pool pool(runtime, model_path("mobilenetv2.onnx"), PoolConfig{});
  if (core_budget(pool.plan()) == 0) GTEST_SKIP() << "one core: the automatic pool has a single worker";
  const std::size_t wide = pool.size() - 1;
  const auto items = random_items(runtime, "mobilenetv2.onnx", 12);
  const auto expected = reference(runtime, "mobilenetv2.onnx", items);

  std::vector<TensorSet> lone;
  for (std::size_t i = 0; i < 4; ++i) lone.push_back(pool.submit(items[i]).get());
  expect_bitwise_equal(std::vector<TensorSet>(expected.begin(), expected.begin() + 4), lone);
  auto stats = pool.stats();
  EXPECT_EQ(stats[wide].items, 4U) << "every lone item on " << stats[wide].name;

  pool.reset_stats();
  const std::vector<TensorSet> burst(items.begin() + 4, items.end());
  expect_bitwise_equal(std::vector<TensorSet>(expected.begin() + 4, expected.end()), pool.run_all(burst));
  stats = pool.stats();
  EXPECT_LE(stats[wide].items, 1U) << "the wide worker takes at most the last of a burst";
  std::size_t total = 0;
  for (const auto& s : stats) total += s.items;
  EXPECT_EQ(total, burst.size());
}

TEST(Pool, StaticPolicySplitsRoundRobin) {
  Runtime runtime;
  const auto items = random_items(runtime, "add_mul.onnx", 7);
  PoolConfig options;
  options.workers = 3;
  options.threads = 1;
  options.policy = Policy::Static;
  Pool pool(runtime, model_path("add_mul.onnx"), options);
  expect_bitwise_equal(reference(runtime, "add_mul.onnx", items), pool.run_all(items));
  const auto stats = pool.stats();
  EXPECT_EQ(stats[0].items, 3U);  // items 0, 3, 6
  EXPECT_EQ(stats[1].items, 2U);
  EXPECT_EQ(stats[2].items, 2U);
}

TEST(Pool, BatchedWorkersGiveTheSameOutputs) {
  Runtime runtime;
  DimBindings bindings;
  bindings.bind_dim("batch_size=2");
  const auto items = random_items(runtime, "add_mul.onnx", 11, bindings);
  PoolConfig options;
  options.workers = 2;
  options.threads = 1;
  options.batch = 4;
  Pool pool(runtime, model_path("add_mul.onnx"), options);
  expect_bitwise_equal(reference(runtime, "add_mul.onnx", items), pool.run_all(items));
  std::size_t runs = 0;
  for (const auto& s : pool.stats()) runs += s.runs;
  EXPECT_LT(runs, items.size()) << "items were queued up front, so some runs took several";
}

TEST(Pool, BatchedMobileNetMatchesWithinFloatTolerance) {
  Runtime runtime;
  const auto items = random_items(runtime, "mobilenetv2.onnx", 4);
  const auto expected = reference(runtime, "mobilenetv2.onnx", items);
  PoolConfig options;
  options.workers = 1;
  options.threads = 1;
  options.batch = 4;
  Pool pool(runtime, model_path("mobilenetv2.onnx"), options);
  const auto actual = pool.run_all(items);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto c = compare(expected[i][0].tensor, actual[i][0].tensor, 1e-4, 1e-5);
    EXPECT_TRUE(c.equal) << "item " << i << ": " << c.problem;
  }
}

// The automatic pool's workers learn whether stacking pays where the model lets items stack, and the
// results are a single session's, item by item and in order, whatever sizes they ran at.
TEST(Pool, AnAutomaticPoolLearnsBatchSizesWhereTheModelStacks) {
  Runtime runtime;
  Pool stacking(runtime, model_path("add_mul.onnx"), PoolConfig{});
  if (core_budget(stacking.plan()) == 0) GTEST_SKIP() << "one core: the automatic pool has a single worker";
  EXPECT_EQ(stacking.learnt_batch_cap(), 8U);
  const auto items = random_items(runtime, "add_mul.onnx", 96);
  const auto expected = reference(runtime, "add_mul.onnx", items);
  for (int pass = 0; pass < 3; ++pass) expect_bitwise_equal(expected, stacking.run_all(items));
  std::size_t ran = 0;
  for (const auto& s : stacking.stats()) {
    ran += s.items;
    EXPECT_EQ(s.failures, 0U) << s.name;
  }
  EXPECT_EQ(ran, 3 * items.size());

  EXPECT_EQ(Pool(runtime, model_path("batchless.onnx"), PoolConfig{}).learnt_batch_cap(), 0U)
      << "items of a model without a batch dim never stack";
  PoolConfig given;
  given.workers = 2;
  EXPECT_EQ(Pool(runtime, model_path("add_mul.onnx"), given).learnt_batch_cap(), 0U) << "a pool as given keeps it";
}

// Items whose shapes differ past the batch dim cannot stack: a worker given several runs them one by
// one at once, with no failed stacked run first (which the scheduler would retry item by item).
TEST(Pool, ItemsOfDifferentShapesInOneBatchRunOneByOne) {
  Runtime runtime;
  std::vector<TensorSet> items;
  const ModelInfo info = inspect_model(runtime, model_path("symbolic.onnx"));
  for (int i = 0; i < 8; ++i) {
    DimBindings bindings;
    bindings.bind_dim("channels=3");
    bindings.bind_dim("height=" + std::to_string(2 + i % 3));  // heights 2, 3, 4, 2, ...
    items.push_back(random_inputs(info, bindings, static_cast<std::uint64_t>(i)));
  }
  const auto expected = reference(runtime, "symbolic.onnx", items);
  PoolConfig options;
  options.workers = 1;
  options.threads = 1;
  options.batch = 4;
  Pool pool(runtime, model_path("symbolic.onnx"), options);
  expect_bitwise_equal(expected, pool.run_all(items));
  const auto stats = pool.stats();
  EXPECT_EQ(stats[0].failures, 0U);
  EXPECT_EQ(stats[0].runs, 2U) << "two batches of four, each run one by one in its worker's call";
}

TEST(Pool, BatchOnABatchlessModelIsAnError) {
  Runtime runtime;
  PoolConfig options;
  options.workers = 1;
  options.batch = 2;
  try {
    Pool pool(runtime, model_path("batchless.onnx"), options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("batchless.onnx"));
    EXPECT_THAT(e.what(), HasSubstr("batch"));
  }
}

TensorSet index_item(std::int64_t index) {
  Tensor idx(ElementType::Int64, {1});
  idx.data<std::int64_t>()[0] = index;
  TensorSet item;
  item.push_back({"idx", std::move(idx)});
  return item;
}

TEST(Pool, FailuresAreNamedAndIsolated) {
  Runtime runtime;
  for (std::size_t batch : {1U, 3U}) {
    PoolConfig options;
    options.workers = 2;
    options.threads = 1;
    options.batch = batch;
    Pool pool(runtime, model_path("fails_sometimes.onnx"), options);
    std::vector<TensorSet> items;
    for (std::int64_t i = 0; i < 8; ++i) items.push_back(index_item(i == 2 || i == 5 ? 12 : i));
    try {
      pool.run_all(items);
      FAIL() << "no error";
    } catch (const RunError& e) {
      EXPECT_THAT(e.what(), HasSubstr("2 of 8 items failed"));
      EXPECT_THAT(e.what(), HasSubstr("item 2 on worker cpu#"));
      ASSERT_EQ(e.failures().size(), 2U);
      EXPECT_EQ(e.failures()[1].item(), 5U);
      EXPECT_THAT(e.failures()[1].cause(), HasSubstr("idx=12"));
    }
    std::size_t done = 0;
    std::size_t failed = 0;
    for (const auto& s : pool.stats()) {
      done += s.items;
      failed += s.failures;
    }
    EXPECT_EQ(done, 8U) << "every item ran once, the good ones too";
    EXPECT_EQ(failed, 2U);

    auto good = pool.submit(index_item(3));
    auto bad = pool.submit(index_item(40));
    EXPECT_EQ(good.get()[0].tensor.data<float>().size(), 4U);
    EXPECT_THROW(bad.get(), ItemError);
  }
}

TEST(Worker, MissingOrUnknownInputsAreNamed) {
  Runtime runtime;
  Worker worker(runtime, model_path("add_mul.onnx"), WorkerPlan{.name = "w"});
  TensorSet only_a;
  only_a.push_back({"a", Tensor(ElementType::Float, {1, 4})});
  EXPECT_THROW(
      {
        try {
          worker.run(only_a);
        } catch (const Error& e) {
          EXPECT_THAT(e.what(), HasSubstr("input 'b' is missing"));
          throw;
        }
      },
      Error);
  only_a.push_back({"b", Tensor(ElementType::Float, {1, 4})});
  only_a.push_back({"c", Tensor(ElementType::Float, {1, 4})});
  EXPECT_THROW(worker.run(only_a), Error);
}

TEST(Worker, BadModelNamesTheWorker) {
  Runtime runtime;
  try {
    Worker worker(runtime, model_path("missing.onnx"), WorkerPlan{.name = "cpu#7"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("worker cpu#7"));
  }
}

// The wide worker is added only to a pool left wholly automatic; any knob set makes the pool as given.
TEST(PlanWorkers, TheWideWorkerComesOnlyWithAnAutomaticPoolOfSeveralNarrowWorkers) {
  CpuTopology cpu;
  cpu.logical = {0, 1};
  cpu.physical_cores = 2;
  const auto plans_with = [&](auto&& change) {
    PoolConfig config;
    change(config);
    return plan_workers(config, cpu);
  };
  EXPECT_EQ(plans_with([](PoolConfig&) {}).size(), 3U);
  EXPECT_EQ(core_budget(plans_with([](PoolConfig&) {})), 2U);
  const std::vector<std::pair<std::string, std::function<void(PoolConfig&)>>> knobs = {
      {"adaptive off", [](PoolConfig& c) { c.adaptive = false; }},
      {"workers given", [](PoolConfig& c) { c.workers = 2; }},
      {"threads given", [](PoolConfig& c) { c.threads = 1; }},
      {"batch 2", [](PoolConfig& c) { c.batch = 2; }},
      {"static policy", [](PoolConfig& c) { c.policy = Policy::Static; }},
      {"pinned", [](PoolConfig& c) { c.pin = true; }},
      {"a device list", [](PoolConfig& c) { c.devices = parse_devices("cpu*2"); }},
      {"the tutorial's sessions", [](PoolConfig& c) { c.ort_defaults = true; }},
      {"one item: one worker of every core", [](PoolConfig& c) { c.items = 1; }},
  };
  for (const auto& [name, change] : knobs) {
    const auto plans = plans_with(change);
    EXPECT_LE(plans.size(), 2U) << name;
    EXPECT_EQ(core_budget(plans), 0U) << name;
  }
  cpu.logical = {0};
  cpu.physical_cores = 1;
  EXPECT_EQ(plans_with([](PoolConfig&) {}).size(), 1U) << "one core: one worker, nothing wider to add";
}

TEST(PlanWorkers, DefaultsFillTheCoresAndPinningIsDisjoint) {
  CpuTopology cpu;
  cpu.logical = {0, 1, 2, 3, 4, 5, 6, 7};
  cpu.physical_cores = 8;
  PoolConfig options;
  options.workers = 2;
  auto plans = plan_workers(options, cpu);
  ASSERT_EQ(plans.size(), 2U);
  EXPECT_EQ(plans[0].threads * 2, 8) << "W x T = cores";
  EXPECT_FALSE(plans[0].spinning) << "spinning off when workers share the machine";
  EXPECT_TRUE(plans[0].cores.empty());

  options.pin = true;
  options.threads = 3;
  plans = plan_workers(options, cpu);
  EXPECT_EQ(plans[0].cores, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(plans[1].cores, (std::vector<int>{3, 4, 5}));

  PoolConfig automatic;
  plans = plan_workers(automatic, cpu);
  const auto narrow = 8U / static_cast<std::size_t>(automatic_threads_per_worker(8));
  ASSERT_EQ(plans.size(), narrow + 1) << "the narrow workers and one as wide as the cores";
  std::vector<int> narrow_cores;
  for (std::size_t w = 0; w < narrow; ++w) {
    EXPECT_EQ(plans[w].width, static_cast<std::size_t>(plans[w].threads));
    EXPECT_FALSE(plans[w].spinning);
    EXPECT_FALSE(plans[w].memory_pattern) << "narrow workers save the memory pattern's block";
    EXPECT_EQ(plans[w].cores.size(), static_cast<std::size_t>(plans[w].threads)) << "pinned, a core a thread";
    narrow_cores.insert(narrow_cores.end(), plans[w].cores.begin(), plans[w].cores.end());
    EXPECT_FALSE(plans[w].give_way);
  }
  std::sort(narrow_cores.begin(), narrow_cores.end());
  EXPECT_EQ(narrow_cores, cpu.logical) << "the narrow workers on cores of their own, all of them";
  EXPECT_EQ(plans.back().name, fmt::format("cpu#{}", narrow));
  EXPECT_EQ(plans.back().threads, 8);
  EXPECT_EQ(plans.back().width, 8U);
  EXPECT_TRUE(plans.back().spinning) << "a single session's spinning";
  EXPECT_TRUE(plans.back().memory_pattern) << "and its memory pattern";
  EXPECT_EQ(plans.back().cores, cpu.logical) << "and its threads pinned one per core";
  EXPECT_TRUE(plans.back().give_way) << "its spinning threads give way to the narrow workers";
  EXPECT_EQ(core_budget(plans), 8U);
  cpu.spread = {0, 4, 1, 5, 2, 6, 3, 7, 8, 9};  // hyperthreads: siblings 4 apart; 8 of 10 usable
  cpu.logical = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  cpu.quota_cpus = 8;
  plans = plan_workers(automatic, cpu);
  EXPECT_EQ(plans.back().cores, (std::vector<int>{0, 4, 1, 5, 2, 6, 3, 7}))
      << "each core before any sibling, as many as its threads";
  EXPECT_EQ(plans.front().cores.front(), 0) << "the first narrow worker on the first core of the spread";
  cpu.spread.clear();
  cpu.logical = {0, 1, 2, 3, 4, 5, 6, 7};
  cpu.quota_cpus = 0;

  PoolConfig single;
  single.workers = 1;
  EXPECT_TRUE(plan_workers(single, cpu)[0].spinning) << "one worker keeps ONNX Runtime's default spinning";

  PoolConfig devices;
  devices.devices = parse_devices("cpu:2*2,cpu");
  plans = plan_workers(devices, cpu);
  ASSERT_EQ(plans.size(), 3U);
  EXPECT_EQ(plans[0].threads, 2);
  EXPECT_EQ(plans[2].threads, 8 / 3);
  EXPECT_EQ(plans[2].name, "cpu#2");

  // CUDA workers keep a core each for their feeding thread; the CPU workers share the rest.
  PoolConfig mixed;
  mixed.devices = parse_devices("cpu,cuda:0");
  plans = plan_workers(mixed, cpu);
  ASSERT_EQ(plans.size(), 2U);
  EXPECT_EQ(plans[0].threads, 7);
  EXPECT_EQ(plans[1].name, "cuda0#0");
  mixed.devices = parse_devices("cpu*2,cuda:0*2@32");
  plans = plan_workers(mixed, cpu);
  ASSERT_EQ(plans.size(), 4U);
  EXPECT_EQ(plans[0].threads, 3);
  EXPECT_EQ(plans[3].name, "cuda0#1");
  EXPECT_EQ(plans[3].batch, 32U) << "the device's @32";
  EXPECT_EQ(plans[0].batch, 1U) << "the pool's batch";
  mixed.batch = 4;
  EXPECT_EQ(plan_workers(mixed, cpu)[0].batch, 4U);
  EXPECT_EQ(plan_workers(mixed, cpu)[3].batch, 32U);
}

// The item count caps the workers of a counted pool (each then gets more of the cores); a device list
// is taken as written.
TEST(PlanWorkers, NoMoreWorkersThanTheItemsCanKeepBusy) {
  CpuTopology cpu;
  cpu.logical = {0, 1, 2, 3, 4, 5, 6, 7};
  PoolConfig config;
  config.items = 1;
  auto plans = plan_workers(config, cpu);
  ASSERT_EQ(plans.size(), 1U) << "automatic, one item: one session";
  EXPECT_EQ(plans[0].threads, 8) << "with all the cores";
  EXPECT_EQ(plans[0].width, 0U) << "alone: no budget to share";
  config.workers = 6;
  config.items = 3;
  EXPECT_EQ(plan_workers(config, cpu).size(), 3U);
  config.items = 5;
  config.batch = 2;
  EXPECT_EQ(plan_workers(config, cpu).size(), 3U) << "ceil(5 / 2) batches";
  config.items = 0;
  EXPECT_EQ(plan_workers(config, cpu).size(), 6U) << "items unknown: as asked";
  PoolConfig devices;
  devices.devices = parse_devices("cpu*4");
  devices.items = 1;
  EXPECT_EQ(plan_workers(devices, cpu).size(), 4U);
}

TEST(PlanWorkers, WhatTheMachineCannotServeIsRefusedUnlessOversubscribed) {
  CpuTopology cpu;
  cpu.logical = {0, 1};
  using Refusal = std::tuple<std::string, std::string, std::string, std::string>;
  const auto refusal = [&](const PoolConfig& config) {
    try {
      plan_workers(config, cpu);
    } catch (const ConfigError& e) {
      return Refusal(e.field(), e.value(), e.what(), e.force());
    }
    return Refusal("", "", "no error", "");
  };
  PoolConfig config;
  config.workers = 100000;
  EXPECT_EQ(refusal(config),
            Refusal("workers", "100000",
                    fmt::format("100000 workers would start 100000 threads on 2 cores: more than this machine can "
                                "serve (at most {} per core, {})",
                                kMaxThreadsPerCore, 2 * kMaxThreadsPerCore),
                    "oversubscribe"));
  config.items = 100;
  EXPECT_THAT(std::get<2>(refusal(config)), StartsWith("100 workers (one per item) would start 100 threads"));
  config = PoolConfig{};
  config.threads = 1 << 20;
  config.workers = 1 << 20;
  EXPECT_EQ(std::get<0>(refusal(config)), "workers") << "the workers alone are too many";
  config.workers = 0;
  EXPECT_EQ(std::get<0>(refusal(config)), "threads") << "one worker, too many threads";
  EXPECT_EQ(std::get<1>(refusal(config)), std::to_string(1 << 20));
  // The limit exactly: 2 workers x 8 threads on 2 cores are served, one thread more is not.
  config.workers = 2;
  config.threads = kMaxThreadsPerCore;
  EXPECT_EQ(plan_workers(config, cpu).size(), 2U);
  config.threads = kMaxThreadsPerCore + 1;
  EXPECT_EQ(std::get<0>(refusal(config)), "threads");
  config.oversubscribe = true;
  EXPECT_EQ(plan_workers(config, cpu)[1].threads, kMaxThreadsPerCore + 1) << "forced";

  // A device list is summed in 64 bits before anything is expanded; a CUDA worker counts one thread.
  PoolConfig devices;
  devices.devices = parse_devices("cpu*2000000000,cpu*2000000000");
  devices.oversubscribe = true;
  EXPECT_EQ(std::get<2>(refusal(devices)), "4000000000 workers is more than any pool may have (1048576)");
  devices.devices = parse_devices("cpu:2*8,cuda:0");
  devices.oversubscribe = false;
  EXPECT_EQ(refusal(devices), Refusal("devices", "cpu:2*8,cuda:0",
                                      fmt::format("9 workers would start 17 threads on 2 cores: more than this machine "
                                                  "can serve (at most {} per core, {})",
                                                  kMaxThreadsPerCore, 2 * kMaxThreadsPerCore),
                                      "oversubscribe"));
  // ONNX Runtime's default width is one thread per physical core: the tutorial's W sessions.
  PoolConfig tutorial;
  tutorial.ort_defaults = true;
  tutorial.workers = kMaxThreadsPerCore;
  cpu.physical_cores = 2;
  EXPECT_EQ(std::get<2>(refusal(tutorial)), "no error") << "W = 8 at the default width is served";
  tutorial.workers = kMaxThreadsPerCore + 1;
  EXPECT_EQ(std::get<0>(refusal(tutorial)), "workers");
}

TEST(PlanWorkers, BadRequestsAreErrors) {
  CpuTopology cpu;
  cpu.logical = {0, 1};
  PoolConfig options;
  options.batch = 0;
  EXPECT_THROW(plan_workers(options, cpu), Error);
  options.batch = 1;
  options.workers = -1;
  try {
    plan_workers(options, cpu);
    FAIL() << "no error";
  } catch (const Error& e) {
    // The library's words, no CLI flag: the CLI names its own flags.
    EXPECT_STREQ(e.what(), "workers must be >= 1, not -1");
  }
  options.workers = 2;
  options.devices = parse_devices("cpu");
  EXPECT_THROW(plan_workers(options, cpu), Error);
}

// The pool over items it does not own: the same outputs as run_all, each item's service time given,
// nothing copied (the items are the caller's).
TEST(Pool, RunsItemsItDoesNotOwnAndTimesEachItem) {
  Runtime runtime;
  DimBindings bindings;
  bindings.bind_dim("batch_size=2");
  const auto items = random_items(runtime, "add_mul.onnx", 9, bindings);
  const auto expected = reference(runtime, "add_mul.onnx", items);
  for (const std::size_t batch : {1U, 4U}) {
    PoolConfig config;
    config.workers = 2;
    config.threads = 1;
    config.batch = batch;
    Pool pool(runtime, model_path("add_mul.onnx"), config, "pool");
    std::vector<double> seconds(items.size(), -1.0);
    expect_bitwise_equal(expected, pool.run(items, seconds));
    for (std::size_t i = 0; i < items.size(); ++i) EXPECT_GT(seconds[i], 0.0) << "item " << i;
    EXPECT_EQ(pool.stats()[0].name, "pool:cpu#0") << "the label prefixes the workers' names";
    expect_bitwise_equal(expected, pool.run(items));  // no times asked
    std::vector<double> too_few(3);
    EXPECT_THROW(static_cast<void>(pool.run(items, too_few)), Error);
  }
}

// The OrtValue path through the pool: items prepared for the worker the static split gives them, run
// into their own outputs, equal to one session's.
TEST(Pool, PreparedItemsRunIntoTheirOutputs) {
  Runtime runtime;
  const auto items = random_items(runtime, "add_mul.onnx", 5);
  const auto expected = reference(runtime, "add_mul.onnx", items);
  for (const Policy policy : {Policy::Static, Policy::Dynamic}) {
    PoolConfig config;
    config.workers = 2;
    config.threads = 1;
    config.policy = policy;
    Pool pool(runtime, model_path("add_mul.onnx"), config);
    auto prepared = pool.prepare(items);
    ASSERT_EQ(prepared.size(), items.size());
    EXPECT_EQ(prepared[1].worker(), "cpu#1") << "item i is prepared for worker i mod W";
    std::vector<double> seconds(items.size(), -1.0);
    pool.run(std::span<PreparedItem>(prepared), seconds);
    std::vector<TensorSet> outputs;
    for (const auto& item : prepared) outputs.push_back(item.outputs());
    expect_bitwise_equal(expected, outputs);
    for (std::size_t i = 0; i < items.size(); ++i) EXPECT_GT(seconds[i], 0.0) << "item " << i;
    if (policy == Policy::Static) {
      EXPECT_EQ(pool.stats()[0].items, 3U);  // items 0, 2, 4: the workers they were prepared for
    }
  }
}

}  // namespace
}  // namespace onnxpool
