// Dispatch overhead of the pool: trivial.onnx (y = x + 1 on 4 floats, a few microseconds of ONNX Runtime
// work) run through Pool::run_all against bare loops on the calling thread, all with one worker of one
// intra-op thread, so the difference is what the pool adds per item: the queue, the futures, the hand-off
// to the worker thread.
//
//   BM_BareSessionRun   Session::Run on pre-made Ort::Values, ONNX Runtime allocating the outputs, on a
//                       session made as a one-thread worker's (the floor: ONNX Runtime alone)
//   BM_PreparedRun      Worker::run of a PreparedItem (the OrtValue path: outputs pre-allocated too)
//   BM_BareWorkerRun    Worker::run: Session::Run plus the Tensor <-> Ort::Value conversions the pool
//                       also does (the fair baseline for the pool's items/s)
//   BM_PoolRunAll       Pool::run_all of a block of items, moved in (made before the clock runs)
//   BM_StreamRun        run_stream of the same block: read one by one from a Source, results to a Sink
//
// Counters: items_per_s (rate) and us_per_item. Overhead per item = pool us_per_item - worker us_per_item.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <vector>

#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pipeline/stream.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/worker.hpp"
#include "onnxpool/tensor/ort_value.hpp"

namespace {

constexpr std::int64_t kBlock = 256;  // items per benchmark iteration

std::filesystem::path model_path() {
  return std::filesystem::path(ONNXPOOL_MODEL_DIR) / "trivial.onnx";
}

void set_counters(benchmark::State& state, std::int64_t items) {
  state.SetItemsProcessed(items);
  state.counters["items_per_s"] = benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
  state.counters["us_per_item"] =
      benchmark::Counter(static_cast<double>(items) * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Calls `run_one` kBlock times per benchmark iteration, and counts the items.
template <class RunOne>
void run_blocks(benchmark::State& state, RunOne&& run_one) {
  std::int64_t items = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < kBlock; ++i) run_one();
    items += kBlock;
  }
  set_counters(state, items);
}

onnxpool::WorkerPlan one_thread() {
  return onnxpool::WorkerPlan{.name = "bare", .threads = 1};
}

void BM_BareSessionRun(benchmark::State& state) {
  onnxpool::Runtime runtime;
  const auto info = onnxpool::inspect_model(runtime, model_path());
  // The session options of a one-thread worker (src/runtime/worker.cpp), on a session of its own: the
  // Worker no longer hands its session out.
  Ort::SessionOptions options;
  options.SetIntraOpNumThreads(1);
  options.SetInterOpNumThreads(1);
  options.AddConfigEntry("session.intra_op.allow_spinning", "0");
  options.DisableMemPattern();
  Ort::Session session(runtime.env(), model_path().c_str(), options);
  auto item = onnxpool::random_inputs(info, {}, 1);
  std::vector<Ort::Value> values;
  values.push_back(onnxpool::to_ort_value(item.front().tensor));
  const char* input = info.inputs.front().name.c_str();
  const char* output = info.outputs.front().name.c_str();
  run_blocks(state, [&] {
    benchmark::DoNotOptimize(session.Run(Ort::RunOptions{nullptr}, &input, values.data(), 1, &output, 1));
  });
}

void BM_PreparedRun(benchmark::State& state) {
  onnxpool::Runtime runtime;
  const auto info = onnxpool::inspect_model(runtime, model_path());
  onnxpool::Worker worker(runtime, model_path(), one_thread());
  const auto item = onnxpool::random_inputs(info, {}, 1);
  auto prepared = worker.prepare(item);
  run_blocks(state, [&] { worker.run(prepared); });
}

void BM_BareWorkerRun(benchmark::State& state) {
  onnxpool::Runtime runtime;
  const auto info = onnxpool::inspect_model(runtime, model_path());
  onnxpool::Worker worker(runtime, model_path(), one_thread());
  const auto item = onnxpool::random_inputs(info, {}, 1);
  run_blocks(state, [&] { benchmark::DoNotOptimize(worker.run(item)); });
}

// Args: workers, batch; one intra-op thread each, no spinning.
onnxpool::PoolConfig pool_config(const benchmark::State& state) {
  onnxpool::PoolConfig config;
  config.workers = static_cast<int>(state.range(0));
  config.threads = 1;
  config.spinning = false;
  config.batch = static_cast<std::size_t>(state.range(1));
  return config;
}

void BM_PoolRunAll(benchmark::State& state) {
  onnxpool::Runtime runtime;
  const auto info = onnxpool::inspect_model(runtime, model_path());
  const onnxpool::PoolConfig options = pool_config(state);
  onnxpool::Pool pool(runtime, model_path(), options);
  const std::vector<onnxpool::TensorSet> block(kBlock, onnxpool::random_inputs(info, {}, 1));
  std::int64_t items = 0;
  for (auto _ : state) {
    // The items are made before the clock runs, as a caller who has them moves them in; the bare
    // loops reuse one item and make none either.
    state.PauseTiming();
    auto copy = block;
    state.ResumeTiming();
    benchmark::DoNotOptimize(pool.run_all(std::move(copy)));
    items += kBlock;
  }
  set_counters(state, items);
}

// One item at a time, as a caller with one item in hand (a server, Python's pool.run): submit, then
// wait for its result. The item's copy is timed too (Python's pool.run times its conversion). What
// the Python binding adds per item is measured against this (bench/python/targets.py).
void BM_PoolSubmitGet(benchmark::State& state) {
  onnxpool::Runtime runtime;
  const auto info = onnxpool::inspect_model(runtime, model_path());
  onnxpool::Pool pool(runtime, model_path(), pool_config(state));
  const auto item = onnxpool::random_inputs(info, {}, 1);
  std::int64_t items = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(pool.submit(onnxpool::TensorSet(item)).get());
    ++items;
  }
  set_counters(state, items);
}

// The streaming path (pipeline/stream.hpp): items read from a Source one by one as the window allows,
// results handed to a Sink in order. The source hands out copies of one made item (what run_all's
// caller pays before its clock runs, paid here inside it); the sink keeps nothing. The difference with
// BM_PoolRunAll at the same arguments is what streaming adds per item.
class CopiesOfOne final : public onnxpool::Source {
 public:
  explicit CopiesOfOne(onnxpool::TensorSet item) : item_(std::move(item)) {}
  [[nodiscard]] std::size_t size() const override { return kBlock; }
  onnxpool::TensorSet read(std::size_t /*index*/) override { return item_; }

 private:
  onnxpool::TensorSet item_;
};

class Discard final : public onnxpool::Sink {
 public:
  void write(std::size_t /*index*/, const std::string& /*name*/, const onnxpool::TensorSet& outputs) override {
    benchmark::DoNotOptimize(outputs.data());
  }
};

void BM_StreamRun(benchmark::State& state) {
  onnxpool::Runtime runtime;
  const auto info = onnxpool::inspect_model(runtime, model_path());
  const onnxpool::PoolConfig options = pool_config(state);
  onnxpool::Pool pool(runtime, model_path(), options);
  CopiesOfOne source(onnxpool::random_inputs(info, {}, 1));
  Discard sink;
  std::int64_t items = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(onnxpool::run_stream(pool, source, sink).items);
    items += kBlock;
  }
  set_counters(state, items);
}

}  // namespace

BENCHMARK(BM_BareSessionRun)->UseRealTime();
BENCHMARK(BM_PreparedRun)->UseRealTime();
BENCHMARK(BM_BareWorkerRun)->UseRealTime();
// Args: workers, batch. One worker, batch 1: the same thread count and work as the bare loops. Two
// workers: the pool on both cores. Batch 8: a worker takes 8 queued items per hand-off (stacked into one
// run), which amortises the per-hand-off cost.
BENCHMARK(BM_PoolRunAll)->Args({1, 1})->Args({2, 1})->Args({1, 8})->Args({2, 8})->UseRealTime();
BENCHMARK(BM_PoolSubmitGet)->Args({1, 1})->UseRealTime();
BENCHMARK(BM_StreamRun)->Args({1, 1})->Args({2, 1})->Args({1, 8})->Args({2, 8})->UseRealTime();

BENCHMARK_MAIN();
