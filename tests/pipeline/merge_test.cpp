// Merging shard folders: the merged files are byte for byte one run's (numbers, strings of other widths
// in each shard, shards without rows, failures), and every hostile set of folders is refused with one
// line naming the problem, leaving nothing in the output folder.
#include "onnxpool/pipeline/merge.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "onnxpool/pipeline/journal.hpp"
#include "onnxpool/pipeline/shard.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kIdentity = R"({"model":"m.onnx","seed":0})";

// Rows [begin, end) of `whole` (its first dim indexing the items, one row each).
Tensor rows_of(const Tensor& whole, ItemRange range) {
  Shape shape = whole.shape();
  shape.front() = static_cast<std::int64_t>(range.size());
  if (whole.element_type() == ElementType::String) {
    const auto& all = whole.strings();
    return Tensor::from_strings(shape, std::vector<std::string>(all.begin() + static_cast<std::ptrdiff_t>(range.begin),
                                                                all.begin() + static_cast<std::ptrdiff_t>(range.end)));
  }
  Tensor part(whole.element_type(), shape);
  const std::size_t row = whole.byte_size() / static_cast<std::size_t>(whole.shape().front());
  if (part.byte_size() != 0) std::memcpy(part.raw_data(), whole.bytes().data() + range.begin * row, part.byte_size());
  return part;
}

struct ShardFolders {
  test::TempDir dir;
  std::vector<fs::path> shards;

  // Shard k of `count` of a run whose output "y" is `whole` (one row per item): the shard's rows as
  // its y.npy (none when it has no item that ran), its failures, its manifest.
  fs::path add(const Tensor& whole, std::size_t k, std::size_t count, const std::vector<std::size_t>& failed = {},
               const std::string& identity = kIdentity) {
    const ShardSpec spec{.index = k, .count = count};
    const auto items = static_cast<std::size_t>(whole.shape().front());
    const ItemRange range = spec.range_of(items);
    const fs::path folder = dir / fmt::format("s{}_{}", k, shards.size());
    fs::create_directories(folder);
    if (failed.size() < range.size()) write_npy(folder / "y.npy", rows_of(whole, range));
    std::string log;
    for (const std::size_t i : failed)
      log += fmt::format(R"({{"index":{},"name":"","worker":"cpu#0","cause":"bad"}})", i) + "\n";
    if (!log.empty()) write_file_atomically(folder / "failures.jsonl", std::as_bytes(std::span(log)));
    ShardManifest{.shard = spec,
                  .items = items,
                  .range = range,
                  .identity = identity,
                  .layout = "stacked",
                  .outputs = {"y"},
                  .failed = failed.size(),
                  .extras = "{}"}
        .write(folder);
    shards.push_back(folder);
    return folder;
  }
};

Tensor counting_floats(std::int64_t items, std::int64_t columns) {
  Tensor t(ElementType::Float, {items, columns});
  for (std::size_t i = 0; i < t.element_count(); ++i) t.data<float>()[i] = static_cast<float>(i) * 0.25F;
  return t;
}

std::string bytes_of(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(MergeShards, ConcatenatesTheShardsRowsIntoOneRunsFile) {
  ShardFolders f;
  const Tensor whole = counting_floats(10, 3);
  for (const std::size_t k : {2, 0, 1}) f.add(whole, k, 3);  // given in any order
  const fs::path out = f.dir / "out";
  fs::create_directory(out);
  const MergeSummary done = merge_shards(f.shards, out);
  EXPECT_EQ(done.shards, 3U);
  EXPECT_EQ(done.items, 10U);
  EXPECT_EQ(done.failed, 0U);
  EXPECT_EQ(done.files, std::vector<fs::path>{out / "y.npy"});
  EXPECT_EQ(test::slurp(out / "y.npy"), bytes_of(encode_npy(whole))) << "byte-identical to one run's file";
  EXPECT_FALSE(fs::exists(out / "failures.jsonl")) << "nothing failed";
}

TEST(MergeShards, PadsNarrowerStringsToTheWidest) {
  ShardFolders f;
  const Tensor whole = Tensor::from_strings({7}, {"a", "bb", "", "W\u00f6rld \u20ac and more", "c", "dd", "eee"});
  for (std::size_t k = 0; k < 3; ++k) f.add(whole, k, 3);
  ASSERT_NE(read_npy(f.shards[0] / "y.npy").shape(), Shape{}) << "fixture";
  const fs::path out = f.dir / "out";
  fs::create_directory(out);
  merge_shards(f.shards, out);
  EXPECT_EQ(test::slurp(out / "y.npy"), bytes_of(encode_npy(whole)));
  EXPECT_EQ(read_npy(out / "y.npy").strings(), whole.strings());
}

// 3 items in 4 shards: shard 0 has none, shard 2's one item (item 1) failed; neither has a y.npy. Their
// rows are zero, as a failed item's rows are in one run's file, and the failures are listed once.
TEST(MergeShards, ShardsWithoutRowsGiveZeroRowsAndTheirFailures) {
  ShardFolders f;
  const Tensor whole = counting_floats(3, 2);
  f.add(whole, 0, 4);
  f.add(whole, 1, 4);
  f.add(whole, 2, 4, {1});
  f.add(whole, 3, 4);
  ASSERT_FALSE(fs::exists(f.shards[0] / "y.npy"));
  ASSERT_FALSE(fs::exists(f.shards[2] / "y.npy"));
  const fs::path out = f.dir / "out";
  fs::create_directory(out);
  const MergeSummary done = merge_shards(f.shards, out);
  EXPECT_EQ(done.failed, 1U);
  Tensor expected = whole;
  std::fill_n(expected.data<float>().begin() + 2, 2, 0.0F);
  EXPECT_EQ(test::slurp(out / "y.npy"), bytes_of(encode_npy(expected)));
  EXPECT_EQ(test::slurp(out / "failures.jsonl"), test::slurp(f.shards[2] / "failures.jsonl"));
}

TEST(MergeShards, NoShardWithRowsGivesNoFile) {
  ShardFolders f;
  const Tensor whole = counting_floats(2, 2);
  f.add(whole, 0, 2, {0});
  f.add(whole, 1, 2, {1});
  const fs::path out = f.dir / "out";
  fs::create_directory(out);
  const MergeSummary done = merge_shards(f.shards, out);
  EXPECT_EQ(done.files, std::vector<fs::path>{out / "failures.jsonl"}) << "as a run whose items all failed";
}

// Every refusal: one line naming the problem, and nothing in the output folder.
class MergeRefuses : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t k = 0; k < 3; ++k) f.add(whole, k, 3);
    fs::create_directory(out);
  }
  std::string refused(const std::vector<fs::path>& shards) {
    const std::string message = test::error_of([&] { merge_shards(shards, out); });
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_TRUE(fs::is_empty(out)) << message;
    return message;
  }
  ShardFolders f;
  Tensor whole = counting_floats(10, 3);
  fs::path out = f.dir / "out";
};

TEST_F(MergeRefuses, AMissingOrDoubledShard) {
  EXPECT_EQ(refused({f.shards[0], f.shards[2]}), "shard 1/3 is missing: 2 of the run's 3 shards given");
  EXPECT_EQ(
      refused({f.shards[0], f.shards[1], f.shards[1], f.shards[2]}),
      f.shards[1].string() + " and " + f.shards[1].string() + " are both shard 1/3: each shard must be given once");
  const fs::path copy = f.add(whole, 2, 3);
  EXPECT_THAT(refused({f.shards[0], f.shards[1], f.shards[2], copy}), HasSubstr("are both shard 2/3"));
  EXPECT_EQ(refused({f.shards[0], f.dir / "nope", f.shards[2]}), (f.dir / "nope").string() + ": no such folder");
  EXPECT_EQ(refused({}), "no shard folders to merge");
}

TEST_F(MergeRefuses, AShardOfAnotherRun) {
  const fs::path other = f.add(whole, 1, 3, {}, R"({"model":"m.onnx","seed":5})");
  EXPECT_EQ(refused({f.shards[0], other, f.shards[2]}), other.string() + ": not a shard of the same run as " +
                                                            f.shards[0].string() +
                                                            ": its run's seed is 5, the other's 0");
  const fs::path four = f.add(counting_floats(10, 3), 1, 4);
  EXPECT_THAT(refused({f.shards[0], four, f.shards[2]}),
              HasSubstr(": shard 1/4 of a run of 10 items, but " + f.shards[0].string() + " is shard 0/3"));
}

TEST_F(MergeRefuses, AShardThatDidNotFinish) {
  write_file_atomically(f.shards[1] / RunJournal::kFileName, {});
  EXPECT_EQ(refused(f.shards), f.shards[1].string() +
                                   ": the shard's run did not finish (.onnxpool-journal is there): complete it with "
                                   "the same run and --resume");
  fs::remove(f.shards[1] / RunJournal::kFileName);
  write_file_atomically(f.shards[1] / "y.npy.partial", {});
  EXPECT_EQ(refused(f.shards), f.shards[1].string() + ": the shard's run did not finish (y.npy.partial is there)");
  fs::remove(f.shards[1] / "y.npy.partial");
  fs::remove(f.shards[1] / "shard.json");
  EXPECT_EQ(refused(f.shards),
            f.shards[1].string() + ": no shard.json: not the folder of a completed `onnxpool run --shard`");
}

TEST_F(MergeRefuses, FilesThatDoNotHoldTheShardsRows) {
  const auto bytes = read_file_bytes(f.shards[1] / "y.npy");
  write_file_atomically(f.shards[1] / "y.npy", std::span(bytes).first(bytes.size() - 5));
  EXPECT_THAT(refused(f.shards), StartsWith((f.shards[1] / "y.npy").string() + ": truncated: "));
  write_npy(f.shards[1] / "y.npy", counting_floats(4, 3));  // shard 1 has 3 items
  EXPECT_EQ(refused(f.shards),
            (f.shards[1] / "y.npy").string() + ": not the stacked output of the shard's 3 items (shape [4,3])");
  write_npy(f.shards[1] / "y.npy", counting_floats(3, 4));
  EXPECT_THAT(refused(f.shards), HasSubstr("float32 rows of shape [4], 1 per item; " +
                                           (f.shards[0] / "y.npy").string() + " has float32 rows of shape [3]"));
  fs::remove(f.shards[1] / "y.npy");
  EXPECT_EQ(refused(f.shards), (f.shards[1] / "y.npy").string() + ": missing: shard 1/3 (" + f.shards[1].string() +
                                   ") has 3 items that ran");
}

TEST_F(MergeRefuses, FailureLogsThatDisagreeWithTheManifest) {
  ShardFolders g;
  const fs::path failing = g.add(whole, 1, 3, {4});
  fs::remove(failing / "failures.jsonl");
  EXPECT_THAT(refused({f.shards[0], failing, f.shards[2]}),
              HasSubstr("failures.jsonl: missing: shard 1/3 (" + failing.string() + ") has 1 failed items"));
  const std::string wrong = R"({"index":7,"name":"","worker":"","cause":"x"})"
                            "\n";
  write_file_atomically(failing / "failures.jsonl", std::as_bytes(std::span(wrong)));
  EXPECT_THAT(refused({f.shards[0], failing, f.shards[2]}), HasSubstr("line 1 names no item of shard 1/3"));
}

TEST_F(MergeRefuses, PerItemShardsAndAnOutputFolderThatIsAShard) {
  EXPECT_THAT(test::error_of([&] { merge_shards(f.shards, f.shards[0]); }),
              HasSubstr(": the output folder is shard 0/3 (" + f.shards[0].string() + ")'s: give another"));
  for (const auto& shard : f.shards) {
    ShardManifest m = ShardManifest::read(shard);
    m.layout = "per-item";
    m.write(shard);
  }
  EXPECT_THAT(refused(f.shards), StartsWith("per-item shards need no merge: "));
}

}  // namespace
}  // namespace onnxpool
