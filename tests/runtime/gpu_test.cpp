// CUDA workers. Without a usable GPU (provider library, driver, device) every run test is skipped with
// the probe's reason, and asking for cuda:K must fail with one clear line naming it.
#include "onnxpool/runtime/gpu.hpp"

#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "onnxpool/bench/strategies.hpp"
#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/worker.hpp"
#include "onnxpool/tensor/ort_value.hpp"
#include "support/model_paths.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using ::testing::HasSubstr;

TEST(GpuProbe, SaysWhyNotWhenUnusable) {
  const auto gpu = probe_gpu();
  EXPECT_FALSE(gpu.onnxruntime_dir.empty()) << "libonnxruntime's folder is found through the loaded library";
  if (gpu.usable()) {
    EXPECT_FALSE(gpu.gpus.empty());
    EXPECT_TRUE(gpu.driver);
  } else {
    EXPECT_FALSE(gpu.reason.empty());
    EXPECT_THROW(require_gpu(gpu, 0, "worker cuda0#0"), Error);
  }
}

TEST(GpuProbe, IndexBeyondTheGpusIsNamed) {
  GpuSupport gpu;
  gpu.provider = "/x/libonnxruntime_providers_cuda.so";
  gpu.driver = true;
  gpu.gpus = {"NVIDIA H100"};
  EXPECT_NO_THROW(require_gpu(gpu, 0, "w"));
  try {
    require_gpu(gpu, 1, "w");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cuda:1 asked, but this machine has 1 GPU"));
  }
  gpu.reason = "no NVIDIA driver";
  EXPECT_THROW(require_gpu(gpu, 0, "w"), Error);
}

// A worker on cuda:0.
WorkerPlan cuda_plan(const std::string& name = "cuda0#0") {
  return WorkerPlan{.name = name, .device = parse_devices("cuda:0").front()};
}

// The error making a CUDA worker "cuda0#0" on add_mul.onnx gives; a test failure when it is made.
std::string cuda_worker_error(Runtime& runtime, std::shared_ptr<const GpuSupport> gpu = nullptr) {
  try {
    const Worker worker(runtime, model_path("add_mul.onnx"), cuda_plan(), WorkerResources{.gpu = std::move(gpu)});
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "a CUDA worker was made";
  return {};
}

TEST(CudaWorker, FailsWithOneLineWhenNoGpu) {
  const auto gpu = probe_gpu();
  if (gpu.usable()) GTEST_SKIP() << "a GPU is usable here: " << gpu.gpus.front();
  Runtime runtime;
  const std::string message = cuda_worker_error(runtime);
  EXPECT_THAT(message, HasSubstr("worker cuda0#0"));
  EXPECT_THAT(message, HasSubstr("cuda:0 asked, but " + gpu.reason));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(CudaWorker, UsesTheProbeItIsGiven) {
  // A pool probes once and hands the result to its CUDA workers: the worker must judge by it (here a
  // made-up verdict) rather than probe again.
  auto given = std::make_shared<GpuSupport>();
  given->reason = "the pool's probe said no";
  Runtime runtime;
  EXPECT_THAT(cuda_worker_error(runtime, given), HasSubstr("cuda:0 asked, but the pool's probe said no"));
}

TEST(CudaWorker, ProviderThatCannotLoadFailsWithOneLine) {
  // Past the probe, up to the provider's loading: the worker registers libonnxruntime_providers_cuda.so
  // with the environment and looks for the GPU among its EP devices. Where that cannot work (the library
  // absent, or present without the driver or CUDA libraries it links, or no GPU), the worker fails with
  // one line naming itself and the reason, and the process goes on.
  const auto real = probe_gpu();
  if (real.usable()) GTEST_SKIP() << "a GPU is usable here: the provider loads";
  auto forced = std::make_shared<GpuSupport>(real);
  forced->reason.clear();
  if (forced->provider.empty()) forced->provider = forced->onnxruntime_dir / "libonnxruntime_providers_cuda.so";
  forced->driver = true;
  forced->gpus = {"a GPU the probe did not see"};
  Runtime runtime;
  const std::string message = cuda_worker_error(runtime, forced);
  EXPECT_THAT(message, HasSubstr("worker cuda0#0 (add_mul.onnx)"));
  // Without the library or the driver it links, registration fails naming the library; with both (a
  // stand-in driver) but no GPU, the registered provider offers no device.
  EXPECT_THAT(message, ::testing::AnyOf(HasSubstr("could not register the CUDA provider: Failed to load library"),
                                        HasSubstr("CUDA provider offers no device")));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  std::cerr << "provider load failure: " << message << "\n";
  // The process is still sound: a CPU worker runs.
  Worker cpu(runtime, model_path("add_mul.onnx"), WorkerPlan{.name = "cpu"});
  const ModelInfo info = inspect_model(runtime, model_path("add_mul.onnx"));
  EXPECT_EQ(cpu.run(random_inputs(info, {}, 1)).size(), info.outputs.size());
}

// --- on a machine with a GPU ---------------------------------------------------------------------

class OnGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu = probe_gpu();
    if (!gpu.usable()) GTEST_SKIP() << "no usable GPU: " << gpu.reason;
  }
  GpuSupport gpu;
  Runtime runtime;
};

std::vector<TensorSet> items_for(Runtime& runtime, const char* model_file, int count) {
  const ModelInfo model = inspect_model(runtime, model_path(model_file));
  std::vector<TensorSet> items;
  for (int i = 0; i < count; ++i) items.push_back(random_inputs(model, {}, 50 + static_cast<std::uint64_t>(i)));
  return items;
}

void expect_close(const std::vector<TensorSet>& expected, const std::vector<TensorSet>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    for (std::size_t k = 0; k < expected[i].size(); ++k) {
      const auto c = compare(expected[i][k].tensor, actual[i][k].tensor, 1e-3, 1e-3);
      EXPECT_TRUE(c.equal) << "item " << i << " " << expected[i][k].name << ": " << c.problem;
    }
  }
}

TEST_F(OnGpu, CudaWorkerMatchesCpu) {
  const auto items = items_for(runtime, "mobilenetv2.onnx", 4);
  Worker cpu(runtime, model_path("mobilenetv2.onnx"), WorkerPlan{.name = "cpu"});
  Worker cuda(runtime, model_path("mobilenetv2.onnx"), cuda_plan());
  std::vector<TensorSet> expected;
  std::vector<TensorSet> actual;
  for (const auto& item : items) {
    expected.push_back(cpu.run(item));
    actual.push_back(cuda.run(item));
  }
  expect_close(expected, actual);
}

TEST_F(OnGpu, CpuAndGpuInOnePoolKeepOrderAndShareTheWork) {
  const auto items = items_for(runtime, "mobilenetv2.onnx", 48);
  Worker cpu(runtime, model_path("mobilenetv2.onnx"), WorkerPlan{.name = "cpu"});
  std::vector<TensorSet> expected;
  for (const auto& item : items) expected.push_back(cpu.run(item));
  PoolConfig options;
  options.devices = parse_devices("cpu,cuda:0@8");
  Pool pool(runtime, model_path("mobilenetv2.onnx"), options);
  expect_close(expected, pool.run_all(items));
  const auto stats = pool.stats();
  ASSERT_EQ(stats.size(), 2U);
  EXPECT_EQ(stats[0].items + stats[1].items, items.size());
  EXPECT_GT(stats[1].items, stats[0].items) << "the GPU worker pulls more items than the CPU worker";
}

TEST_F(OnGpu, TwoWorkersOnOneGpu) {
  const auto items = items_for(runtime, "add_mul.onnx", 16);
  PoolConfig options;
  options.devices = parse_devices("cuda:0*2");
  Pool pool(runtime, model_path("add_mul.onnx"), options);
  const auto outputs = pool.run_all(items);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto a = items[i][0].tensor.data<float>();
    const auto b = items[i][1].tensor.data<float>();
    const auto sum = outputs[i][0].tensor.data<float>();
    for (std::size_t j = 0; j < a.size(); ++j) EXPECT_FLOAT_EQ(sum[j], a[j] + b[j]);
  }
}

// The tutorial's GPU experiment in bench: every strategy over cpu,cuda:0 agrees with seq_cpu to 1e-3, each
// returns N results, and every item is counted on some worker.
TEST_F(OnGpu, BenchStrategiesOverCpuAndGpuAgreeWithSeqCpu) {
  const auto path = model_path("mobilenetv2.onnx");
  const ModelInfo info = inspect_model(runtime, path);
  const auto images = items_for(runtime, "mobilenetv2.onnx", 8);
  bench::SweepOptions o;
  o.workers = 2;
  o.max_n = 4;  // N = 1, 2, 6
  o.step_n = 2;
  o.repeat = 2;
  o.strategies = {bench::StrategyKind::SeqCpu, bench::StrategyKind::SeqGpu, bench::StrategyKind::Parallel,
                  bench::StrategyKind::ParallelOrtValue, bench::StrategyKind::Pool};
  o.pool.devices = parse_devices("cpu,cuda:0");
  o.rtol = 1e-3;
  o.atol = 1e-3;
  o.measure_repeat = 2;
  o.measure_number = 2;
  const auto r = bench::run_sweep(runtime, path, info, images, o, nullptr);  // throws on a mismatch
  EXPECT_EQ(r.reference, "seq_cpu");
  ASSERT_EQ(r.strategies.size(), 5U);
  for (const auto& s : r.strategies) {
    std::size_t total = 0;
    for (const auto& w : s.workers) total += w.counters.items;
    EXPECT_EQ(total, r.rows.back().n) << s.name;
  }
  EXPECT_THAT(r.strategies[1].description, HasSubstr("cuda:0"));
  EXPECT_THAT(r.strategies[3].description, HasSubstr("inputs in GPU memory"));
}

// Run through the CUDA worker's IoBinding (host inputs, outputs to pinned memory): several inputs and
// outputs, every element type, batches.
TEST_F(OnGpu, IoBindingRunsMatchCpuForSeveralInputsEveryTypeAndBatches) {
  DimBindings n;
  n.bind_dim("n=7");
  for (const auto& [file, bindings] :
       std::vector<std::pair<const char*, DimBindings>>{{"add_mul.onnx", {}}, {"types.onnx", n}}) {
    const ModelInfo model = inspect_model(runtime, model_path(file));
    Worker cpu(runtime, model_path(file), WorkerPlan{.name = "cpu"});
    Worker cuda(runtime, model_path(file), cuda_plan());
    EXPECT_TRUE(cuda.uses_io_binding());
    std::vector<TensorSet> expected;
    std::vector<TensorSet> actual;
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
      const auto item = random_inputs(model, bindings, seed);
      expected.push_back(cpu.run(item));
      actual.push_back(cuda.run(item));
    }
    SCOPED_TRACE(file);
    expect_close(expected, actual);
  }
  const auto items = items_for(runtime, "mobilenetv2.onnx", 3);
  std::vector<const TensorSet*> batch;
  for (const auto& item : items) batch.push_back(&item);
  Worker cpu(runtime, model_path("mobilenetv2.onnx"), WorkerPlan{.name = "cpu"});
  Worker cuda(runtime, model_path("mobilenetv2.onnx"), cuda_plan());
  expect_close(cpu.run(batch), cuda.run(batch));
}

// The OrtValue path on a GPU: inputs copied once into GPU memory, run twice into host buffers.
TEST_F(OnGpu, PreparedItemsRunIntoMatchCpu) {
  for (const char* file : {"mobilenetv2.onnx", "add_mul.onnx"}) {
    const auto items = items_for(runtime, file, 3);
    Worker cpu(runtime, model_path(file), WorkerPlan{.name = "cpu"});
    Worker cuda(runtime, model_path(file), cuda_plan());
    std::vector<TensorSet> expected;
    std::vector<TensorSet> actual;
    for (const auto& item : items) {
      expected.push_back(cpu.run(item));
      auto prepared = cuda.prepare(item);
      for (int repeat = 0; repeat < 2; ++repeat) {
        cuda.run(prepared);
        actual.push_back(prepared.outputs());
      }
      TensorSet again = expected.back();  // one expectation per repeat
      expected.push_back(std::move(again));
    }
    SCOPED_TRACE(file);
    expect_close(expected, actual);
  }
}

// Where prepare() puts the inputs on a GPU: in its memory, unless ONNX Runtime's environment cannot
// copy there (then this fails with the reason: the benchmark would measure host-to-device copies).
TEST_F(OnGpu, PreparedInputsLiveInGpuMemory) {
  const auto items = items_for(runtime, "mobilenetv2.onnx", 1);
  Worker cuda(runtime, model_path("mobilenetv2.onnx"), cuda_plan());
  const auto prepared = cuda.prepare(items[0]);
  ASSERT_TRUE(prepared.inputs_on_device()) << "the copy failed: " << prepared.host_reason();
  const auto values = prepared.input_values();
  ASSERT_EQ(values.size(), 1U);
  const auto memory = values[0].GetTensorMemoryInfo();
  EXPECT_EQ(memory.GetDeviceType(), OrtMemoryInfoDeviceType_GPU);
  EXPECT_EQ(memory.GetDeviceId(), 0);
  EXPECT_EQ(values[0].GetTensorTypeAndShapeInfo().GetShape(), items[0][0].tensor.shape());
}

}  // namespace
}  // namespace onnxpool
