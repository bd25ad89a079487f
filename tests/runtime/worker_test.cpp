// Worker's IoBinding path and prepared items, on CPU: a worker binding its inputs and outputs gives the
// outputs of a plain one bitwise (same threads), for every element type, strings, several inputs and
// outputs, symbolic shapes that change from run to run, and batches; prepare() and run(prepared) give
// what run() gives, name missing inputs, and survive a failing run.
#include "onnxpool/runtime/worker.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/gpu.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/ort_value.hpp"
#include "runtime/device_inputs.hpp"
#include "support/model_paths.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using ::testing::HasSubstr;

WorkerPlan cpu_plan(const std::string& name, bool io_binding) {
  return WorkerPlan{.name = name, .threads = 1, .io_binding = io_binding};
}

std::vector<TensorSet> random_items(Runtime& runtime, const std::filesystem::path& model, int count,
                                    const DimBindings& bindings = {}) {
  const ModelInfo info = inspect_model(runtime, model);
  std::vector<TensorSet> items;
  for (int i = 0; i < count; ++i) items.push_back(random_inputs(info, bindings, 300 + static_cast<std::uint64_t>(i)));
  return items;
}

void expect_same(const TensorSet& expected, const TensorSet& actual, const std::string& what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(expected[k].name, actual[k].name) << what;
    EXPECT_TRUE(expected[k].tensor == actual[k].tensor) << what << ", output " << expected[k].name;
  }
}

// Runs every item through a plain worker and a binding one, and checks both give the same outputs.
std::vector<TensorSet> expect_binding_equals_plain(Runtime& runtime, const std::filesystem::path& model,
                                                   const std::vector<TensorSet>& items) {
  Worker plain(runtime, model, cpu_plan("plain", false));
  Worker bound(runtime, model, cpu_plan("bound", true));
  EXPECT_FALSE(plain.uses_io_binding());
  EXPECT_TRUE(bound.uses_io_binding());
  std::vector<TensorSet> outputs;
  for (std::size_t i = 0; i < items.size(); ++i) {
    outputs.push_back(plain.run(items[i]));
    expect_same(outputs.back(), bound.run(items[i]), "item " + std::to_string(i));
  }
  return outputs;
}

// A worker stacks items where the model has a batch dim on every input and output: the rule that
// inspect_model's batchable() applies, read from the worker's own session, for each test model.
TEST(WorkerStacking, StackableAgreesWithTheModelsBatchable) {
  Runtime runtime;
  for (const char* file : {"add_mul.onnx", "batchless.onnx", "types.onnx", "more_types.onnx", "symbolic.onnx",
                           "strings.onnx", "gpt2_tiny.onnx", "trivial.onnx"}) {
    const bool batchable = inspect_model(runtime, model_path(file)).batchable();
    EXPECT_EQ(Worker(runtime, model_path(file), cpu_plan("w", false)).stackable(), batchable) << file;
  }
  EXPECT_TRUE(Worker(runtime, model_path("add_mul.onnx"), cpu_plan("w", false)).stackable());
  EXPECT_FALSE(Worker(runtime, model_path("batchless.onnx"), cpu_plan("w", false)).stackable());
}

TEST(WorkerIoBinding, MobileNetOutputsBitwiseEqualAPlainWorkers) {
  Runtime runtime;
  const auto model = model_path("mobilenetv2.onnx");
  const auto items = random_items(runtime, model, 3);
  const auto outputs = expect_binding_equals_plain(runtime, model, items);
  // Distinct items give distinct outputs: the binding is not handing back a previous run's output.
  EXPECT_FALSE(outputs[0][0].tensor == outputs[1][0].tensor);
}

TEST(WorkerIoBinding, SeveralInputsAndOutputsBoundByNameInAnyOrder) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  const auto sets = load_data_sets(info, model_path("add_mul/test_data_set_0"));
  ASSERT_EQ(sets.size(), 1U);
  TensorSet reversed(sets[0].inputs.rbegin(), sets[0].inputs.rend());  // b before a
  ASSERT_EQ(reversed.front().name, "b");
  Worker bound(runtime, model, cpu_plan("bound", true));
  const auto outputs = bound.run(reversed);
  // The ONNX test data's outputs were computed by numpy: a + b and a * b in float32, exactly.
  expect_same(sets[0].expected, outputs, "add_mul test data");
  expect_binding_equals_plain(runtime, model, random_items(runtime, model, 2));
}

TEST(WorkerIoBinding, EveryElementTypeAndAScalar) {
  Runtime runtime;
  const auto model = model_path("types.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  const auto sets = load_data_sets(info, model_path("types/test_data_set_0"));
  ASSERT_EQ(sets.size(), 1U);
  Worker bound(runtime, model, cpu_plan("bound", true));
  expect_same(sets[0].expected, bound.run(sets[0].inputs), "types test data");
  DimBindings bindings;
  bindings.bind_dim("n=7");
  expect_binding_equals_plain(runtime, model, random_items(runtime, model, 2, bindings));
}

// A model with a string input and output (Identity) beside a float one, written for the test: ONNX
// Runtime keeps strings as std::string objects, so they must stay in plain CPU memory when bound.
std::filesystem::path write_string_model(const std::filesystem::path& file) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("onnxpool worker_test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* graph = model.mutable_graph();
  graph->set_name("strings");
  const auto add = [](auto* list, const char* name, int type) {
    auto* value = list->Add();
    value->set_name(name);
    auto* tensor = value->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    tensor->mutable_shape()->add_dim()->set_dim_param("n");
  };
  add(graph->mutable_input(), "s", onnx::TensorProto::STRING);
  add(graph->mutable_input(), "x", onnx::TensorProto::FLOAT);
  add(graph->mutable_output(), "s_out", onnx::TensorProto::STRING);
  add(graph->mutable_output(), "x_twice", onnx::TensorProto::FLOAT);
  auto* identity = graph->add_node();
  identity->set_op_type("Identity");
  identity->add_input("s");
  identity->add_output("s_out");
  auto* twice = graph->add_node();
  twice->set_op_type("Add");
  twice->add_input("x");
  twice->add_input("x");
  twice->add_output("x_twice");
  std::ofstream out(file, std::ios::binary);
  EXPECT_TRUE(model.SerializeToOstream(&out));
  return file;
}

TEST(WorkerIoBinding, StringTensors) {
  const test::TempDir dir;
  const auto model = write_string_model(dir / "strings.onnx");
  Runtime runtime;
  Tensor x(ElementType::Float, {3});
  x.data<float>()[0] = 1.5F;
  x.data<float>()[1] = -2.0F;
  x.data<float>()[2] = 0.25F;
  const TensorSet item{{"s", Tensor::from_strings({3}, {"alpha", "", "a longer string than the small-string buffer"})},
                       {"x", x}};
  const auto outputs = expect_binding_equals_plain(runtime, model, {item});
  ASSERT_EQ(outputs[0].size(), 2U);
  EXPECT_EQ(outputs[0][0].tensor.strings(), item[0].tensor.strings());
  EXPECT_THAT(outputs[0][1].tensor.data<float>(), ::testing::ElementsAre(3.0F, -4.0F, 0.5F));
  // A prepared item with strings: the string input is an ONNX Runtime-owned copy, and ONNX Runtime
  // allocates the outputs (it keeps strings in its own layout).
  Worker bound(runtime, model, cpu_plan("bound", true));
  auto prepared = bound.prepare(item);
  bound.run(prepared);
  const auto again = prepared.outputs();
  ASSERT_EQ(again.size(), 2U);
  EXPECT_EQ(again[0].tensor.strings(), item[0].tensor.strings());
  EXPECT_TRUE(again[1].tensor == outputs[0][1].tensor);
}

TEST(WorkerIoBinding, SymbolicShapesChangingBetweenRuns) {
  Runtime runtime;
  const auto model = model_path("symbolic.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  std::vector<TensorSet> items;
  for (const char* shape : {"x:1,2,3,16", "x:3,1,5,16", "x:1,2,3,16"}) {
    DimBindings bindings;
    bindings.bind_shape(shape);
    items.push_back(random_inputs(info, bindings, items.size()));
  }
  const auto outputs = expect_binding_equals_plain(runtime, model, items);
  EXPECT_EQ(outputs[1][1].tensor.shape(), (Shape{3, 1}));
}

TEST(WorkerIoBinding, BatchesEqualAPlainWorkersAndOneByOne) {
  Runtime runtime;
  const auto model = model_path("mobilenetv2.onnx");
  const auto items = random_items(runtime, model, 3);
  std::vector<const TensorSet*> batch;
  for (const auto& item : items) batch.push_back(&item);
  Worker plain(runtime, model, cpu_plan("plain", false));
  Worker bound(runtime, model, cpu_plan("bound", true));
  const auto expected = plain.run(batch);
  const auto actual = bound.run(batch);
  ASSERT_EQ(actual.size(), items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    expect_same(expected[i], actual[i], "batch item " + std::to_string(i));
    // A batch's outputs are close to one-by-one runs' (kernels may block a batch differently).
    const auto alone = bound.run(items[i]);
    const auto c = compare(alone[0].tensor, actual[i][0].tensor, 1e-4, 1e-5);
    EXPECT_TRUE(c.equal) << "item " << i << ": " << c.problem;
  }
}

// --- prepare() and run(prepared) ----------------------------------------------------------------------

class PreparedItems : public ::testing::TestWithParam<bool> {};  // io_binding

TEST_P(PreparedItems, CpuViewsRunIntoPreallocatedOutputsAsRunDoes) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const auto items = random_items(runtime, model, 2);
  Worker worker(runtime, model, cpu_plan("cpu#0", GetParam()));
  for (const auto& item : items) {
    const auto expected = worker.run(item);
    auto prepared = worker.prepare(item);
    EXPECT_FALSE(prepared.inputs_on_device());
    EXPECT_EQ(prepared.host_reason(), "");
    EXPECT_EQ(prepared.worker(), "cpu#0");
    // Zero-copy views of the item's tensors, in the model's input order.
    ASSERT_EQ(prepared.input_values().size(), 2U);
    EXPECT_EQ(prepared.input_values()[0].GetTensorRawData(), item[0].tensor.raw_data());
    EXPECT_EQ(prepared.input_values()[1].GetTensorRawData(), item[1].tensor.raw_data());
    for (int repeat = 0; repeat < 2; ++repeat) {  // the same item run again, as a benchmark does
      worker.run(prepared);
      expect_same(expected, prepared.outputs(), "repeat " + std::to_string(repeat));
    }
    const auto out = prepared.outputs();
    const auto a = item[0].tensor.data<float>();
    const auto b = item[1].tensor.data<float>();
    for (std::size_t j = 0; j < a.size(); ++j) EXPECT_EQ(out[0].tensor.data<float>()[j], a[j] + b[j]);
  }
}

TEST_P(PreparedItems, MobileNetRunIntoEqualsRun) {
  Runtime runtime;
  const auto model = model_path("mobilenetv2.onnx");
  const auto items = random_items(runtime, model, 1);
  Worker worker(runtime, model, cpu_plan("cpu#0", GetParam()));
  const auto expected = worker.run(items[0]);
  auto prepared = worker.prepare(items[0]);
  worker.run(prepared);
  expect_same(expected, prepared.outputs(), "mobilenetv2");
}

TEST_P(PreparedItems, MissingAndUnknownInputsAreNamed) {
  Runtime runtime(ORT_LOGGING_LEVEL_FATAL);
  const auto model = model_path("add_mul.onnx");
  const auto items = random_items(runtime, model, 1);
  Worker worker(runtime, model, cpu_plan("cpu#3", GetParam()));
  const TensorSet only_a{items[0][0]};
  try {
    (void)worker.prepare(only_a);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("worker cpu#3: input 'b' is missing"));
  }
  TensorSet extra = items[0];
  extra.push_back({"c", items[0][0].tensor});
  try {
    (void)worker.prepare(extra);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("worker cpu#3: the model has no input 'c'"));
  }
}

Tensor indices(std::vector<std::int64_t> values) {
  Tensor t(ElementType::Int64, {static_cast<std::int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data<std::int64_t>().begin());
  return t;
}

TEST_P(PreparedItems, AFailingRunGivesOnnxRuntimesMessageAndTheWorkerGoesOn) {
  Runtime runtime(ORT_LOGGING_LEVEL_FATAL);  // the failing kernel's own log line is not wanted here
  const auto model = model_path("fails_sometimes.onnx");
  Worker worker(runtime, model, cpu_plan("cpu#1", GetParam()));
  const TensorSet bad{{"idx", indices({1, 12})}};
  const TensorSet good{{"idx", indices({3, -1})}};
  auto good_prepared = worker.prepare(good);
  // prepare() learns the output shapes from one run per new input shape, which fails for a bad item
  // of a shape not seen yet: named likewise.
  try {
    (void)worker.prepare(TensorSet{{"idx", indices({12})}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("worker cpu#1: ONNX Runtime: "));
    EXPECT_THAT(e.what(), HasSubstr("idx=12"));  // Gather's own words
  }
  // A prepared item whose timed run fails: its inputs are views of the item on a CPU worker, so an index
  // made bad after preparing reaches the run.
  TensorSet turns_bad{{"idx", indices({1, 2})}};
  auto prepared = worker.prepare(turns_bad);
  turns_bad[0].tensor.data<std::int64_t>()[1] = 12;
  try {
    worker.run(prepared);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("worker cpu#1: ONNX Runtime: "));
    EXPECT_THAT(e.what(), HasSubstr("idx=12"));
  }
  EXPECT_THROW((void)worker.run(bad), Error);
  worker.run(good_prepared);
  const auto y = good_prepared.outputs()[0].tensor;
  // Row r of the table is 4r..4r+3; index -1 is row 9.
  EXPECT_THAT(y.data<float>(), ::testing::ElementsAre(12.0F, 13.0F, 14.0F, 15.0F, 36.0F, 37.0F, 38.0F, 39.0F));
  const auto again = worker.run(good);
  EXPECT_TRUE(again[0].tensor == y);
}

// The device-copy plan of a session that reads its inputs from host memory (every CPU session): no
// copy, a reason, and the values left as they are. (The GPU side runs in gpu_test on a GPU.)
TEST(DeviceInputs, ASessionReadingHostMemoryKeepsTheValues) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const auto items = random_items(runtime, model, 1);
  const Ort::Session session(runtime.env(), model.c_str(), Ort::SessionOptions{});
  const DeviceInputs inputs(runtime.env(), session, {"a", "b"});
  EXPECT_FALSE(inputs.available());
  EXPECT_EQ(inputs.problem(), "the session reads every input from host memory");
  std::vector<Ort::Value> values;
  values.push_back(to_ort_value(items[0][0].tensor));
  values.push_back(to_ort_value(items[0][1].tensor));
  inputs.copy_to_device(values);
  ASSERT_EQ(values.size(), 2U);
  EXPECT_EQ(values[0].GetTensorRawData(), items[0][0].tensor.raw_data());
  EXPECT_EQ(values[1].GetTensorRawData(), items[0][1].tensor.raw_data());
}

INSTANTIATE_TEST_SUITE_P(PlainAndIoBinding, PreparedItems, ::testing::Bool(),
                         [](const auto& param_info) { return param_info.param ? "IoBinding" : "Plain"; });

// This process's threads (/proc/self/task): each one's allowed CPUs ("Cpus_allowed_list") and
// scheduling policy (SCHED_OTHER 0, SCHED_IDLE 5).
struct ThreadState {
  std::string cpus;
  int policy = 0;
};
std::map<std::string, ThreadState> threads_now() {
  std::map<std::string, ThreadState> found;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ThreadState state;
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("Cpus_allowed_list:")) state.cpus = line.substr(line.find_first_of("0123456789"));
    }
    // /proc/PID/task/TID/stat: "tid (comm) state ..." with the policy the 41st field; comm may hold spaces.
    std::ifstream stat(task.path() / "stat");
    const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 41 && fields >> field; ++i) {
      if (i == 41) state.policy = std::stoi(field);
    }
    found[task.path().filename()] = state;
  }
  return found;
}

// The adaptive pool's wide worker: pinned as a default session is (its intra-op thread on the second
// core; the thread that calls run() pinned only by bind_current_thread, so a caller running it as a
// guest stays free) and with intra-op threads that give way (SCHED_IDLE). The control: the same worker
// with neither.
TEST(WorkerThreads, APinnedWorkersIntraOpThreadsGoToItsCoresAndGiveWay) {
  const auto cpu = CpuTopology::detect();
  if (cpu.logical_count() < 2) GTEST_SKIP() << "one CPU: nothing to pin apart";
  Runtime runtime;
  const auto model = model_path("mobilenetv2.onnx");
  const auto items = random_items(runtime, model, 1);
  const std::string mine_before = threads_now().at(std::to_string(gettid())).cpus;
  const auto started_threads = [&](std::vector<int> cores, bool give_way) {
    const auto before = threads_now();
    Worker worker(runtime, model,
                  WorkerPlan{.name = "wide",
                             .threads = 2,
                             .cores = std::move(cores),
                             .spinning = true,
                             .memory_pattern = true,
                             .give_way = give_way});
    static_cast<void>(worker.run(items.front()));
    std::vector<ThreadState> started;
    for (const auto& [id, state] : threads_now()) {
      if (!before.contains(id)) started.push_back(state);
    }
    return started;
  };
  const std::string last = std::to_string(cpu.logical.back());
  const auto pinned = started_threads({cpu.logical.front(), cpu.logical.back()}, true);
  ASSERT_EQ(pinned.size(), 1U) << "one intra-op thread beside the caller";
  EXPECT_EQ(pinned.front().cpus, last);
  EXPECT_EQ(pinned.front().policy, SCHED_IDLE);
  EXPECT_EQ(threads_now().at(std::to_string(gettid())).cpus, mine_before) << "run() leaves the caller's thread free";

  const auto plain = started_threads({}, false);
  ASSERT_EQ(plain.size(), 1U);
  EXPECT_NE(plain.front().cpus, last) << "the control: an intra-op thread not pinned may run on every CPU";
  EXPECT_EQ(plain.front().policy, SCHED_OTHER);
}

}  // namespace
}  // namespace onnxpool
