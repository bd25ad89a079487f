// The streaming run: a source's items through a pool into a sink, in order, with a bounded number in
// flight; failing items (unreadable, or failing in ONNX Runtime) cost only themselves; the failure log.
#include "onnxpool/pipeline/stream.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pipeline/journal.hpp"
#include "onnxpool/pipeline/run_hand_out.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/worker.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/errors.hpp"
#include "support/model_paths.hpp"
#include "support/python_fixture.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using ::testing::HasSubstr;

// Everything a sink is told, in the order it is told.
class RecordingSink final : public Sink {
 public:
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override {
    order.push_back(index);
    names.push_back(name);
    results[index] = outputs;
  }
  void fail(const ItemFailure& failure) override {
    order.push_back(failure.index);
    failures.push_back(failure);
  }
  void finish() override { ++finished; }

  std::vector<std::size_t> order;
  std::vector<std::string> names;
  std::map<std::size_t, TensorSet> results;
  std::vector<ItemFailure> failures;
  int finished = 0;
};

// A source around another that counts reads, can fail chosen items, and checks the window: the items
// read but not yet handed to `sink` never exceed `window`.
class CheckedSource final : public Source {
 public:
  CheckedSource(Source& inner, const RecordingSink& sink, std::set<std::size_t> unreadable = {})
      : inner_(inner), sink_(sink), unreadable_(std::move(unreadable)) {}
  [[nodiscard]] std::size_t size() const override { return inner_.size(); }
  [[nodiscard]] std::string name(std::size_t index) const override { return "item-" + std::to_string(index); }
  TensorSet read(std::size_t index) override {
    EXPECT_EQ(index, reads) << "items are read once each, in order";
    ++reads;
    most_in_flight = std::max(most_in_flight, reads - sink_.order.size());
    if (unreadable_.contains(index)) throw Error("cannot read item " + std::to_string(index) + "\nsecond line");
    return inner_.read(index);
  }
  std::size_t reads = 0;
  std::size_t most_in_flight = 0;

 private:
  Source& inner_;
  const RecordingSink& sink_;
  std::set<std::size_t> unreadable_;
};

PoolConfig two_workers() {
  PoolConfig config;
  config.workers = 2;
  config.threads = 1;
  return config;
}

TEST(RandomSource, GivesTheSeededItemsRunAlwaysGave) {
  Runtime runtime;
  const ModelInfo info = inspect_model(runtime, model_path("add_mul.onnx"));
  RandomSource source(info, {}, {}, 100, 5);
  EXPECT_EQ(source.size(), 5U);
  for (std::size_t i : {4U, 0U, 2U}) {
    const TensorSet expected = random_inputs(info, {}, 100 + i);
    const TensorSet item = source.read(i);
    ASSERT_EQ(item.size(), expected.size());
    for (std::size_t k = 0; k < item.size(); ++k) EXPECT_TRUE(item[k].tensor == expected[k].tensor) << i;
  }
}

TEST(RandomSource, WhatWouldFailEveryItemIsRefusedUpFront) {
  Runtime runtime;
  const ModelInfo info = inspect_model(runtime, model_path("symbolic.onnx"));
  EXPECT_THROW(RandomSource(info, {}, {}, 0, 3), UnboundDimError);
}

TEST(Stream, OutputsEqualRunAllsInOrderWithABoundedWindow) {
  Runtime runtime;
  const auto model = model_path("mobilenetv2.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  RandomSource items(info, {}, {}, 7, 13);
  std::vector<TensorSet> all;
  for (std::size_t i = 0; i < items.size(); ++i) all.push_back(items.read(i));

  for (const Policy policy : {Policy::Static, Policy::Dynamic}) {
    PoolConfig config = two_workers();
    config.policy = policy;
    Pool pool(runtime, model, config);
    const auto expected = pool.run_all(all);
    RecordingSink sink;
    CheckedSource source(items, sink);
    const StreamSummary done = run_stream(pool, source, sink, {.window = 3});
    EXPECT_EQ(done.items, 13U);
    EXPECT_EQ(done.failed, 0U);
    EXPECT_FALSE(done.stopped);
    EXPECT_GT(done.seconds, 0.0);
    // The calling thread's time, accounted: reading 13 MobileNetV2 items takes some, and the parts fit
    // in the whole.
    EXPECT_GT(done.read_seconds, 0.0);
    EXPECT_LE(done.read_seconds + done.wait_seconds + done.write_seconds, done.seconds);
    EXPECT_EQ(sink.finished, 1);
    EXPECT_EQ(source.reads, 13U);
    EXPECT_LE(source.most_in_flight, 3U) << "the window bounds the items read ahead";
    ASSERT_EQ(sink.order.size(), 13U);
    for (std::size_t i = 0; i < 13; ++i) {
      EXPECT_EQ(sink.order[i], i) << "results reach the sink in item order";
      EXPECT_EQ(sink.names[i], "item-" + std::to_string(i));
      EXPECT_TRUE(sink.results[i][0].tensor == expected[i][0].tensor) << "item " << i;
    }
  }
}

TEST(Stream, TheDefaultWindowIsFourBatchesPerWorker) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  DimBindings bindings;
  bindings.bind_dim("batch_size=1");
  RandomSource items(info, bindings, {}, 0, 200);
  PoolConfig config = two_workers();
  config.batch = 3;
  Pool pool(runtime, model, config);
  RecordingSink sink;
  CheckedSource source(items, sink);
  EXPECT_EQ(run_stream(pool, source, sink).items, 200U);
  EXPECT_LE(source.most_in_flight, 4U * 2U * 3U);
  EXPECT_GT(source.most_in_flight, 2U) << "workers are kept fed";
}

TEST(Stream, FailingItemsCostOnlyThemselves) {
  Runtime runtime(ORT_LOGGING_LEVEL_FATAL);
  const auto model = model_path("fails_sometimes.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  // idx = 3 for every item; items 2 and 6 get an index out of the table, item 4 cannot be read.
  class Indices final : public Source {
   public:
    [[nodiscard]] std::size_t size() const override { return 8; }
    TensorSet read(std::size_t index) override {
      Tensor idx(ElementType::Int64, {1});
      idx.data<std::int64_t>()[0] = index == 2 || index == 6 ? 12 : static_cast<std::int64_t>(index);
      return {{"idx", idx}};
    }
  } indices;
  RecordingSink sink;
  CheckedSource source(indices, sink, {4});
  Pool pool(runtime, model, two_workers());
  const StreamSummary done = run_stream(pool, source, sink, {.window = 2});
  EXPECT_EQ(done.items, 8U);
  EXPECT_EQ(done.failed, 3U);
  EXPECT_EQ(sink.order, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  ASSERT_EQ(sink.failures.size(), 3U);
  EXPECT_EQ(sink.failures[0].index, 2U);
  EXPECT_EQ(sink.failures[0].name, "item-2");
  EXPECT_THAT(sink.failures[0].worker, ::testing::StartsWith("cpu#"));
  EXPECT_THAT(sink.failures[0].cause, HasSubstr("idx=12"));
  EXPECT_EQ(sink.failures[1].index, 4U);
  EXPECT_EQ(sink.failures[1].worker, "") << "it failed before reaching a worker";
  EXPECT_EQ(sink.failures[1].cause, "cannot read item 4 second line") << "one line";
  EXPECT_EQ(sink.failures[2].index, 6U);
  // The good items' outputs: row r of the table is 4r..4r+3.
  for (const std::size_t i : {0U, 1U, 3U, 5U, 7U}) {
    EXPECT_EQ(sink.results.at(i)[0].tensor.data<float>()[0], 4.0F * static_cast<float>(i)) << "item " << i;
  }

  // max_failures: no item is taken after the second failure; those in flight still finish.
  RecordingSink stopped_sink;
  CheckedSource again(indices, stopped_sink, {4});
  const StreamSummary stopped = run_stream(pool, again, stopped_sink, {.window = 1, .max_failures = 2});
  EXPECT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.failed, 2U);
  EXPECT_EQ(stopped.items, 5U) << "items 0-4, the window being 1";
  EXPECT_EQ(again.reads, 5U);
  EXPECT_EQ(stopped_sink.finished, 1);
}

TEST(Stream, ASinkThatCannotKeepAResultStopsTheRunUnfinished) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  RandomSource items(info, {}, {}, 0, 10);
  class FullDisk final : public Sink {
   public:
    void write(std::size_t index, const std::string& /*name*/, const TensorSet& /*outputs*/) override {
      if (index == 3) throw Error("out.npy: No space left on device");
    }
    void finish() override { finished = true; }
    bool finished = false;
  } sink;
  Pool pool(runtime, model, two_workers());
  EXPECT_THROW(run_stream(pool, items, sink), Error);
  EXPECT_FALSE(sink.finished) << "nothing is made final";
}

TEST(FailureLog, OneJsonLinePerFailureUnderItsFinalNameOnlyWhenFinished) {
  test::TempDir dir;
  const auto path = dir.path() / "failures.jsonl";
  {
    FailureLog log(path);
    log.fail({.index = 3, .name = "a\"b", .worker = "cpu#1", .cause = "bad"});
    log.fail({.index = 9, .name = "", .worker = "", .cause = "unreadable"});
    EXPECT_FALSE(std::filesystem::exists(path)) << "a temporary name while the run goes on";
    log.finish();
  }
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0], (nlohmann::json{{"index", 3}, {"name", "a\"b"}, {"worker", "cpu#1"}, {"cause", "bad"}}));
  EXPECT_EQ(lines[1]["index"], 9);

  const auto unfinished = dir.path() / "unfinished.jsonl";
  {
    FailureLog log(unfinished);
    log.fail({.index = 1, .name = "", .worker = "", .cause = "x"});
  }
  EXPECT_FALSE(std::filesystem::exists(unfinished));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "no temporary left behind";

  FailureLog clean(dir.path() / "clean.jsonl");
  clean.finish();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "clean.jsonl")) << "no failures, no file";
}

// Every file below `dir`, relative, sorted.
std::vector<std::string> files_under(const std::filesystem::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    files.push_back(std::filesystem::relative(entry.path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(StackedNpySink, RowsAreEachItemsOutputsInItemOrder) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  DimBindings bindings;
  bindings.bind_dim("batch_size=2");  // each item gives 2 rows
  RandomSource source(info, bindings, {}, 3, 7);
  std::vector<TensorSet> items;
  for (std::size_t i = 0; i < source.size(); ++i) items.push_back(source.read(i));
  Pool pool(runtime, model, two_workers());
  const auto expected = pool.run_all(items);

  test::TempDir dir;
  {
    StackedNpySink sink(dir.path(), source.size());
    EXPECT_EQ(run_stream(pool, source, sink).failed, 0U);
    EXPECT_TRUE(sink.complete());
  }
  EXPECT_EQ(files_under(dir.path()), (std::vector<std::string>{"prod.npy", "sum.npy"}));
  for (const auto& [file, k] : {std::pair{"sum.npy", 0}, std::pair{"prod.npy", 1}}) {
    const Tensor stacked = read_npy(dir.path() / file);
    ASSERT_EQ(stacked.shape(), (Shape{14, 4})) << file;
    std::vector<const Tensor*> parts;
    for (const auto& out : expected) parts.push_back(&out[static_cast<std::size_t>(k)].tensor);
    EXPECT_TRUE(stacked == concat_first_dim(parts)) << file;
  }
  // numpy loads it as the same array.
  if (const auto lacks = test::python_lacks("numpy"); !lacks.empty()) GTEST_SKIP() << lacks;
  const auto loaded = test::run_python(
      dir, "import numpy as np\na = np.load('sum.npy')\nprint(a.shape, a.dtype, repr(float(a[13, 3])))\n");
  ASSERT_EQ(loaded.status, 0) << loaded.output;
  EXPECT_EQ(loaded.output,
            fmt::format("(14, 4) float32 {}\n", static_cast<double>(expected[6][0].tensor.data<float>()[7])));
}

TEST(StackedNpySink, AnItemThatDoesNotStackFailsAloneAndItsRowsStayZero) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  // Items of one row, but item 2 of three rows: it cannot take one row's place.
  class Rows final : public Source {
   public:
    explicit Rows(const ModelInfo& info) : info_(info) {}
    [[nodiscard]] std::size_t size() const override { return 4; }
    TensorSet read(std::size_t index) override {
      DimBindings bindings;
      bindings.bind_dim(index == 2 ? "batch_size=3" : "batch_size=1");
      return random_inputs(info_, bindings, index);
    }

   private:
    const ModelInfo& info_;
  } rows(info);
  Pool pool(runtime, model, two_workers());
  test::TempDir dir;
  RecordingSink record;
  StackedNpySink stacked(dir.path(), rows.size());
  SinkFan sink({&stacked, &record});
  const StreamSummary done = run_stream(pool, rows, sink);
  EXPECT_EQ(done.failed, 1U);
  ASSERT_EQ(record.failures.size(), 1U);
  EXPECT_EQ(record.failures[0].index, 2U);
  EXPECT_THAT(record.failures[0].cause,
              HasSubstr("output 'sum' of shape [3,4] does not stack with the first item's [1,4]"));
  EXPECT_EQ(record.results.count(2), 0U) << "a rejected item reaches no later sink";
  const Tensor sum = read_npy(dir.path() / "sum.npy");
  ASSERT_EQ(sum.shape(), (Shape{4, 4}));
  for (std::size_t j = 8; j < 12; ++j) EXPECT_EQ(sum.data<float>()[j], 0.0F) << "row 2 stays zero";
  EXPECT_TRUE(sum.data<float>()[12] == record.results.at(3)[0].tensor.data<float>()[0]);
}

TEST(StackedNpySink, ARunStoppedEarlyLeavesNoFileUnderAFinalName) {
  Runtime runtime(ORT_LOGGING_LEVEL_FATAL);
  const auto model = model_path("fails_sometimes.onnx");
  class Indices final : public Source {
   public:
    [[nodiscard]] std::size_t size() const override { return 50; }
    TensorSet read(std::size_t index) override {
      Tensor idx(ElementType::Int64, {1});
      idx.data<std::int64_t>()[0] = index == 1 ? 12 : 2;
      return {{"idx", idx}};
    }
  } indices;
  Pool pool(runtime, model, two_workers());
  test::TempDir dir;
  {
    StackedNpySink sink(dir.path(), indices.size());
    const StreamSummary done = run_stream(pool, indices, sink, {.window = 2, .max_failures = 1});
    EXPECT_TRUE(done.stopped);
    EXPECT_FALSE(sink.complete());
  }
  EXPECT_TRUE(files_under(dir.path()).empty()) << "no final file, no temporary";
  EXPECT_FALSE(StackedNpySink::stackable({ElementType::Float, ElementType::BFloat16}));
  EXPECT_TRUE(StackedNpySink::stackable({ElementType::Float, ElementType::String}));
  EXPECT_TRUE(StackedNpySink::stackable({ElementType::Float, ElementType::Int64, ElementType::Bool}));
}

// Items 0..29 of fails_sometimes: y = row idx of a table; items 4 and 17 fail (index out of range).
class GatherIndices final : public Source {
 public:
  [[nodiscard]] std::size_t size() const override { return 30; }
  [[nodiscard]] std::string name(std::size_t index) const override { return fmt::format("i{}", index); }
  TensorSet read(std::size_t index) override {
    ++reads;
    Tensor idx(ElementType::Int64, {1});
    idx.data<std::int64_t>()[0] = index == 4 || index == 17 ? 12 : static_cast<std::int64_t>(index % 10);
    return {{"idx", idx}};
  }
  std::size_t reads = 0;
};

// Stops the run (as a signal would) once `after` results have reached it.
class StopAfter final : public Sink {
 public:
  StopAfter(std::atomic<bool>& stop, std::size_t after) : stop_(stop), after_(after) {}
  void write(std::size_t /*index*/, const std::string& /*name*/, const TensorSet& /*outputs*/) override {
    if (++seen_ >= after_) stop_ = true;
  }

 private:
  std::atomic<bool>& stop_;
  std::size_t after_;
  std::size_t seen_ = 0;
};

// The stacked files and the failure log of a run stopped part-way (and left with garbage where a crash
// would leave rows written but not journaled), then resumed: byte for byte those of a run never stopped.
TEST(StackedNpySink, AResumedRunWritesTheBytesOfAnUninterruptedOne) {
  Runtime runtime(ORT_LOGGING_LEVEL_FATAL);
  const auto model = model_path("fails_sometimes.onnx");
  Pool pool(runtime, model, two_workers());
  test::TempDir whole;
  test::TempDir parts;
  {
    GatherIndices source;
    StackedNpySink stacked(whole.path(), source.size());
    FailureLog log(whole.path() / "failures.jsonl");
    SinkFan sink({&stacked, &log});
    EXPECT_EQ(run_stream(pool, source, sink).failed, 2U);
  }
  const auto journal_path = parts.path() / RunJournal::kFileName;
  const std::string identity = R"({"model":"fails_sometimes"})";
  std::size_t first_done = 0;
  {
    GatherIndices source;
    RunJournal journal = RunJournal::start(journal_path, source.size(), identity);
    StackedNpySink stacked(parts.path(), source.size(), /*resumable=*/true);
    FailureLog log(parts.path() / "failures.jsonl");
    SinkFan files({&stacked, &log});
    JournaledSink journaled(files, journal, 3600.0);
    std::atomic<bool> stop{false};
    StopAfter stopper(stop, 9);
    SinkFan sink({&journaled, &stopper});
    const StreamSummary done = run_stream(pool, source, sink, {.window = 3, .stop = &stop});
    EXPECT_TRUE(done.interrupted);
    first_done = done.items;
    EXPECT_GE(first_done, 10U);  // 9 results and item 4's failure, and those in flight
    EXPECT_LT(first_done, 30U);
    EXPECT_FALSE(stacked.complete());
  }
  EXPECT_TRUE(std::filesystem::exists(parts.path() / "y.npy.partial")) << "kept for the resume";
  EXPECT_FALSE(std::filesystem::exists(parts.path() / "y.npy")) << "nothing under a final name";
  {
    // A crash would have left rows of items past the journal's last record: garbage, to be written again.
    std::fstream file(parts.path() / "y.npy.partial", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-static_cast<std::streamoff>(16 * (30 - first_done)), std::ios::end);
    const std::string garbage(16 * (30 - first_done), '\xff');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  {
    GatherIndices source;
    ResumeState state;
    RunJournal journal = RunJournal::resume(journal_path, source.size(), identity, state);
    EXPECT_EQ(state.done_count(), first_done);
    StackedNpySink stacked(parts.path(), source.size(), /*resumable=*/true);
    stacked.resume({"y"}, state.done, /*written_before=*/true);
    FailureLog log(parts.path() / "failures.jsonl");
    SinkFan files({&stacked, &log});
    JournaledSink journaled(files, journal, 3600.0);
    RecordingSink record;
    SinkFan sink({&journaled, &record});
    const StreamSummary done = run_stream(pool, source, sink, {.resume = &state});
    EXPECT_EQ(source.reads, 30U - first_done) << "only the items not done are read";
    EXPECT_EQ(done.items, 30U);
    EXPECT_EQ(done.kept, first_done);
    EXPECT_EQ(done.failed, 2U) << "item 4's failure, kept, and item 17's";
    EXPECT_TRUE(stacked.complete());
    EXPECT_EQ(record.failures.size(), 2U) << "kept failures are told as failures";
  }
  EXPECT_EQ(files_under(parts.path()), (std::vector<std::string>{"failures.jsonl", "y.npy"}));
  EXPECT_EQ(test::slurp(parts.path() / "y.npy"), test::slurp(whole.path() / "y.npy"));
  // The same failures, in the same order, for the same reasons (which worker ran an item may differ
  // from one run to the next).
  EXPECT_EQ(test::failures_without_workers(parts.path() / "failures.jsonl"),
            test::failures_without_workers(whole.path() / "failures.jsonl"));
  EXPECT_EQ(test::failures_without_workers(whole.path() / "failures.jsonl").size(), 2U);
}

TEST(StackedNpySink, ResumeRefusesAFileThatIsNotThisRunsOutput) {
  test::TempDir dir;
  write_npy(dir / "y.npy.partial", Tensor(ElementType::Float, {31, 4}));
  StackedNpySink stacked(dir.path(), 30, true);
  try {
    stacked.resume({"y"}, std::vector<bool>(30, true), true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "y.npy.partial").string() + ": not the stacked output of 30 items (shape [31,4], 496 data bytes)");
  }
  std::filesystem::remove(dir / "y.npy.partial");
  EXPECT_THROW(stacked.resume({"y"}, std::vector<bool>(30, true), true), Error)
      << "written before, so the file must be there";
  stacked.resume({"y"}, std::vector<bool>(30, false),
                 false);  // nothing written before: the files come with the first result
}

// String outputs stack as numpy's unicode ('<U n', n the longest string, known only at the end): spooled
// as items complete, laid out at finish. Failed items give empty strings, also over a record that an
// interrupted run left for them, and a resumed run gives the bytes of one never stopped.
TEST(StackedNpySink, StringsStackAsNumpyUnicodeAndResume) {
  const auto item = [](std::size_t i) {
    const std::vector<std::vector<std::string>> texts{
        {"a", "bb"}, {"h\u00e9", "\U0001f600 four"}, {"", "x"}, {"longest string", "y"}};
    return TensorSet{{"label", Tensor::from_strings({1, 2}, texts[i])}, {"score", Tensor(ElementType::Float, {1})}};
  };
  const auto fail = [](std::size_t i) { return ItemFailure{.index = i, .name = {}, .worker = {}, .cause = "boom"}; };
  test::TempDir whole;
  {
    StackedNpySink sink(whole.path(), 4);
    sink.write(0, "", item(0));
    sink.write(1, "", item(1));
    sink.fail(fail(2));
    sink.write(3, "", item(3));
    sink.finish();
    ASSERT_TRUE(sink.complete());
  }
  EXPECT_EQ(files_under(whole.path()), (std::vector<std::string>{"label.npy", "score.npy"})) << "no spool left";
  const Tensor labels = read_npy(whole.path() / "label.npy");
  EXPECT_EQ(labels.shape(), (Shape{4, 2}));
  EXPECT_EQ(labels.strings(),
            (std::vector<std::string>{"a", "bb", "h\u00e9", "\U0001f600 four", "", "", "longest string", "y"}));
  // Interrupted after items 0 and 1 were synced, and a record of item 2 written (not in the journal).
  test::TempDir parts;
  {
    StackedNpySink sink(parts.path(), 4, /*resumable=*/true);
    sink.write(0, "", item(0));
    sink.write(1, "", item(1));
    sink.sync();
    sink.write(2, "", item(2));
  }
  EXPECT_TRUE(std::filesystem::exists(parts.path() / "label.npy.strings.partial")) << "kept for the resume";
  EXPECT_FALSE(std::filesystem::exists(parts.path() / "label.npy"));
  {
    StackedNpySink sink(parts.path(), 4, /*resumable=*/true);
    sink.resume({"label", "score"}, {true, true, false, false}, /*written_before=*/true);
    sink.kept(0, "");
    sink.kept(1, "");
    sink.fail(fail(2));  // failing this time: its strings must be empty, whatever the earlier record said
    sink.write(3, "", item(3));
    sink.finish();
    ASSERT_TRUE(sink.complete());
  }
  EXPECT_EQ(files_under(parts.path()), (std::vector<std::string>{"label.npy", "score.npy"}));
  EXPECT_EQ(test::slurp(parts.path() / "label.npy"), test::slurp(whole.path() / "label.npy"));
  EXPECT_EQ(test::slurp(parts.path() / "score.npy"), test::slurp(whole.path() / "score.npy"));

  // numpy sees '<U14' (the longest string's 14 characters).
  if (const auto lacks = test::python_lacks("numpy"); !lacks.empty()) GTEST_SKIP() << lacks;
  const auto loaded = test::run_python(
      whole, "import numpy as np\na = np.load('label.npy')\nprint(a.dtype, a.shape, a[1, 1] == '\\U0001f600 four')\n");
  ASSERT_EQ(loaded.status, 0) << loaded.output;
  EXPECT_EQ(loaded.output, "<U14 (4, 2) True\n");
}

TEST(StackedNpySink, AStringItemThatIsNotUtf8FailsAlone) {
  test::TempDir dir;
  StackedNpySink sink(dir.path(), 2);
  sink.write(0, "", {{"label", Tensor::from_strings({1}, {"ok"})}});
  EXPECT_THROW(sink.write(1, "", {{"label", Tensor::from_strings({1}, {"\xff\xfe"})}}), RejectedItem);
  sink.fail({.index = 1, .name = {}, .worker = {}, .cause = "not UTF-8"});
  sink.finish();
  EXPECT_EQ(read_npy(dir / "label.npy").strings(), (std::vector<std::string>{"ok", ""}));
}

// A resumed per-item run clears what the interrupted one left of the items it runs again: the
// temporaries of a write cut short, and the outputs of an item that fails this time.
TEST(PerItemNpySink, AResumedRunLeavesWhatARunNeverStoppedWould) {
  test::TempDir dir;
  const Tensor y = Tensor::from_strings({1}, {"y"});
  std::filesystem::create_directories(dir / "item_1");
  std::filesystem::create_directories(dir / "item_2");
  write_npy(dir / "item_1" / ".y.npy.tmp.123.0.0badf00d", y);  // a write cut short by kill -9
  write_npy(dir / "item_2" / "y.npy", y);                      // written, then the run died
  PerItemNpySink sink(dir.path(), 3);
  sink.resume();
  sink.write(1, "", {{"y", y}});
  sink.fail({.index = 2, .name = {}, .worker = "cpu#0", .cause = "fails this time"});
  EXPECT_EQ(files_under(dir.path()), (std::vector<std::string>{"item_1", "item_1/y.npy"})) << "no temporary, no item_2";
}

}  // namespace
}  // namespace onnxpool

namespace onnxpool {
namespace {

// A run shared by ranks (issue 12), with threads standing in for them: each its own source and pool,
// chunks from one hand-out, its rows written into the same stacked file. The file, made final, and the
// failure log are those of one process's run.
TEST(StreamAcrossRanks, ThreadsAsRanksWriteTheBytesOfOneRun) {
  Runtime runtime(ORT_LOGGING_LEVEL_FATAL);
  const auto model = model_path("fails_sometimes.onnx");
  test::TempDir whole;
  {
    GatherIndices source;
    Pool pool(runtime, model, two_workers());
    StackedNpySink stacked(whole.path(), source.size());
    FailureLog log(whole.path() / "failures.jsonl");
    SinkFan sink({&stacked, &log});
    EXPECT_EQ(run_stream(pool, source, sink).failed, 2U);
  }
  test::TempDir shared;
  constexpr std::size_t kRanks = 3;
  auto journal = RunJournal::start(shared.path() / RunJournal::kFileName, 30, R"({"model":"fails_sometimes"})");
  RunHandOut hand_out(30, kRanks, nullptr, &journal, {.chunk = 4, .max_failures = 0, .commit_seconds = 0.0});
  std::vector<StreamSummary> done(kRanks);
  {
    std::vector<std::jthread> ranks;
    for (std::size_t r = 0; r < kRanks; ++r) {
      ranks.emplace_back([&, r] {
        GatherIndices source;
        PoolConfig config;
        config.workers = 1;
        config.threads = 1;
        Pool pool(runtime, model, config);
        StackedNpySink stacked(shared.path(), source.size(), /*resumable=*/true);
        stacked.share({"y"});
        const auto feed = hand_out.feed(r);
        done[r] = run_stream(pool, source, stacked, {.window = 3, .feed = feed.get()});
        EXPECT_FALSE(done[r].stopped) << "rank " << r;
      });
    }
  }
  EXPECT_TRUE(hand_out.finished());
  std::size_t items = 0;
  for (const auto& d : done) items += d.items;
  EXPECT_EQ(items, 30U) << "each item run once";
  EXPECT_EQ(files_under(shared.path()), (std::vector<std::string>{".onnxpool-journal", "y.npy.partial"}))
      << "nothing final before rank 0 says so";
  StackedNpySink::make_final(shared.path(), {"y"});
  FailureLog log(shared.path() / "failures.jsonl");
  for (const auto& failure : hand_out.failures()) log.fail(failure);
  log.finish();
  EXPECT_EQ(test::slurp(shared.path() / "y.npy"), test::slurp(whole.path() / "y.npy"));
  EXPECT_TRUE(test::failures_without_workers(shared.path() / "failures.jsonl") ==
              test::failures_without_workers(whole.path() / "failures.jsonl"));
  EXPECT_EQ(RunJournal::parse(test::slurp(shared.path() / RunJournal::kFileName), 30, R"({"model":"fails_sometimes"})",
                              "journal")
                .done_count(),
            30U);
}

// Ranks whose first results differ in shape: the first to write lays the file out, the others adopt
// it, and an item that does not fit is rejected as in one process.
TEST(StreamAcrossRanks, SharedFilesAreLaidOutOnceAndAdoptedByTheOthers) {
  Runtime runtime;
  const auto model = model_path("add_mul.onnx");
  const ModelInfo info = inspect_model(runtime, model);
  RandomSource one_row(info, {}, {}, 0, 4);
  DimBindings two;
  two.bind_dim("batch_size=2");
  RandomSource two_rows(info, two, {}, 0, 4);
  Pool pool(runtime, model, two_workers());
  test::TempDir dir;
  StackedNpySink first(dir.path(), 4, true);
  first.share({"sum", "prod"});
  StackedNpySink second(dir.path(), 4, true);
  second.share({"sum", "prod"});
  first.write(0, "", pool.submit(one_row.read(0)).get());
  EXPECT_THROW(second.write(1, "", pool.submit(two_rows.read(1)).get()), RejectedItem);
  second.write(2, "", pool.submit(one_row.read(2)).get());
  second.fail({.index = 3, .name = "", .worker = "", .cause = "x"});
  first.write(1, "", pool.submit(one_row.read(1)).get());
  first.finish();
  second.finish();
  StackedNpySink::make_final(dir.path(), {"sum", "prod"});
  const Tensor sum = read_npy(dir.path() / "sum.npy");
  ASSERT_EQ(sum.shape(), (Shape{4, 4}));
  const TensorSet expected = pool.submit(one_row.read(2)).get();
  const auto rows = sum.data<float>();
  const auto row = expected[0].tensor.data<float>();
  EXPECT_TRUE(std::equal(row.begin(), row.end(), rows.begin() + 8)) << "item 2's row";
  for (std::size_t k = 12; k < 16; ++k) EXPECT_EQ(rows[k], 0.0F) << "failed item 3's row is zero";
}

}  // namespace
}  // namespace onnxpool
