// `onnxpool run --shard K/N` then `onnxpool merge` end to end: for each kind of source (random items,
// --data arrays, images), with failing items, strings, --top-k and shards of no items, the merged folder
// holds byte for byte the files of one run over every item; a shard resumes only itself; and merge
// refuses, in one line, a missing, doubled, foreign, unfinished or damaged shard.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/image_fixtures.hpp"
#include "support/model_paths.hpp"

namespace onnxpool {
namespace {

namespace fs = std::filesystem;
using test::files_under;
using test::model_path;
using test::q;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The same files, byte for byte.
void expect_same_files(const fs::path& whole, const fs::path& merged) {
  const auto files = files_under(whole);
  EXPECT_EQ(files_under(merged), files);
  for (const auto& file : files) EXPECT_TRUE(test::slurp(whole / file) == test::slurp(merged / file)) << file;
}

std::size_t lines_of(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class ShardCli : public ::testing::Test {
 protected:
  // `run` (a command line without --output) once whole into DIR/whole, as `shards` shards into
  // DIR/part<K>, and those merged (given last first) into DIR/merged; each run's exit status must be
  // `status` (4 when items fail), or 0 for a shard without failures when `status` is 4.
  void run_sharded(const std::string& run, std::size_t shards, int status = 0) {
    const auto whole = run_cli(run + " -q --output " + q(dir / "whole"));
    ASSERT_EQ(whole.status, status) << whole.err;
    std::string parts;
    for (std::size_t k = 0; k < shards; ++k) {
      const auto part = dir / fmt::format("part{}", k);
      const auto r = run_cli(run + fmt::format(" -q --shard {}/{} --output ", k, shards) + q(part));
      EXPECT_TRUE(r.status == 0 || r.status == status) << r.err;
      EXPECT_TRUE(fs::exists(part / "shard.json")) << k;
      parts = " " + q(part) + parts;
    }
    const auto merged = run_cli("merge" + parts + " --output " + q(dir / "merged"));
    ASSERT_EQ(merged.status, 0) << merged.err;
    EXPECT_EQ(merged.err, "");
    EXPECT_THAT(merged.out, StartsWith(fmt::format("merged {} shards: ", shards)));
  }
  std::string run_on(const std::string& model) { return "run " + q(model_path(model)); }
  test::TempDir dir;
};

TEST_F(ShardCli, RandomItemsMergeToOneRunsFiles) {
  run_sharded(run_on("add_mul.onnx") + " --random 10 --workers 2", 3);
  expect_same_files(dir / "whole", dir / "merged");
  EXPECT_EQ(files_under(dir / "merged"), (std::vector<std::string>{"prod.npy", "sum.npy"}));
  // Contiguous ranges: 10 items in 3 shards are 0..2, 3..5, 6..9.
  EXPECT_EQ(read_npy(dir / "part1" / "sum.npy").shape(), (Shape{3, 4}));
  EXPECT_EQ(read_npy(dir / "part2" / "sum.npy").shape(), (Shape{4, 4}));
  const auto r = run_cli(run_on("add_mul.onnx") + " --random 10 --shard 2/3 --output " + q(dir / "again"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("shard 2/3: items 6..9 of 10\n4 items in "));
}

// 2 items in 3 shards: shard 0 has none. Its run completes with only its manifest, and the merge
// takes the layout from the others.
TEST_F(ShardCli, AShardOfNoItemsCompletesAndMerges) {
  run_sharded(run_on("add_mul.onnx") + " --random 2", 3);
  EXPECT_EQ(files_under(dir / "part0"), std::vector<std::string>{"shard.json"});
  expect_same_files(dir / "whole", dir / "merged");
  const auto r = run_cli(run_on("add_mul.onnx") + " --random 2 --shard 0/3 --output " + q(dir / "again"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("shard 0/3: no items (2 items in 3 shards)\n"));
}

// --data rows, every 4th out of the model's table (it fails), with --top-k: the merged failures.jsonl
// and top_k.csv are one run's (one worker, so even the worker named is the same), indices the whole
// run's.
TEST_F(ShardCli, DataArraysWithFailingItemsAndTopK) {
  Tensor idx(ElementType::Int64, {11});
  for (std::int64_t i = 0; i < 11; ++i) idx.data<std::int64_t>()[i] = i % 4 == 1 ? 12 : i % 10;
  write_npy(dir / "idx.npy", idx);
  run_sharded(run_on("fails_sometimes.onnx") + " --data idx=" + q(dir / "idx.npy") + " --workers 1 --top-k 2", 3, 4);
  expect_same_files(dir / "whole", dir / "merged");
  EXPECT_EQ(files_under(dir / "merged"), (std::vector<std::string>{"failures.jsonl", "top_k.csv", "y.npy"}));
  EXPECT_EQ(lines_of(test::slurp(dir / "merged" / "failures.jsonl")), 3U);
  // Shard 1 (items 3..6) names item 5 as the whole run does.
  EXPECT_THAT(test::slurp(dir / "part1" / "failures.jsonl"), StartsWith("{\"cause\":"));
  EXPECT_THAT(test::slurp(dir / "part1" / "failures.jsonl"), HasSubstr("\"index\":5,"));
  EXPECT_THAT(test::slurp(dir / "part1" / "top_k.csv"), HasSubstr("\n6,1,3,,"));
}

// Strings stack as '<U n' with n the longest string: each shard's is narrower than the whole run's.
TEST_F(ShardCli, StringOutputsArePaddedToTheWholeRunsWidth) {
  const std::vector<std::string> text{"a", "bb", "W\u00f6rld \u20ac and more", "c", "", "dd"};
  write_npy(dir / "text.npy", Tensor::from_strings({6}, text));
  run_sharded(run_on("strings.onnx") + " --data text=" + q(dir / "text.npy"), 3);
  expect_same_files(dir / "whole", dir / "merged");
  EXPECT_EQ(read_npy(dir / "merged" / "same.npy").strings(), text);
}

TEST_F(ShardCli, ImagesWithACorruptOne) {
  if (const std::string lacks = test::python_lacks("numpy, PIL"); !lacks.empty()) GTEST_SKIP() << lacks;
  test::TempDir fixtures;
  const auto made = test::run_python(fixtures, test::kImageFixturesScript);
  ASSERT_EQ(made.status, 0) << made.output;
  const auto images = dir / "images";
  fs::create_directory(images);
  const std::vector<std::pair<std::string, std::string>> files{
      {"rgb.jpg", "a.jpg"}, {"orient6.jpg", "b.jpg"}, {"truncated.jpg", "c.jpg"}, {"palette.png", "d.png"}};
  for (const auto& [from, to] : files) fs::copy_file(fixtures / from, images / to);
  run_sharded(run_on("image_identity.onnx") + " --images " + q(images) + " --workers 1", 3, 4);
  expect_same_files(dir / "whole", dir / "merged");
  EXPECT_THAT(test::slurp(dir / "merged" / "failures.jsonl"), HasSubstr("\"index\":2,\"name\":\"c.jpg\""));
}

// --per-item: each shard's item folders are named as in the whole run, so their union is its folder;
// merge says so rather than copy them.
TEST_F(ShardCli, PerItemShardsHoldTheWholeRunsItemFolders) {
  const std::string run = run_on("add_mul.onnx") + " --random 4 --per-item -q --output ";
  ASSERT_EQ(run_cli(run + q(dir / "whole")).status, 0);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto r = run_cli(run + q(dir / "parts") + fmt::format(" --overwrite --shard {}/3", k));
    ASSERT_EQ(r.status, 0) << r.err;
  }
  auto parts = files_under(dir / "parts");
  std::erase(parts, "shard.json");
  EXPECT_EQ(parts, files_under(dir / "whole")) << "item_<index> folders of the whole run";
  for (const auto& file : parts) EXPECT_TRUE(test::slurp(dir / "parts" / file) == test::slurp(dir / "whole" / file));
  ASSERT_EQ(run_cli(run + q(dir / "one") + " --shard 1/3").status, 0);
  EXPECT_EQ(files_under(dir / "one"), (std::vector<std::string>{"item_1/prod.npy", "item_1/sum.npy", "shard.json"}))
      << "a folder for its one item, as in the whole run";
  const auto merged = run_cli("merge " + q(dir / "one") + " --output " + q(dir / "merged"));
  EXPECT_EQ(merged.status, 1);
  EXPECT_THAT(merged.err, StartsWith("onnxpool: error: shard 0/3 is missing"));
}

// A shard's journal names its shard: --resume continues only that shard, and merge refuses the shard
// until it is complete.
TEST_F(ShardCli, AShardResumesOnlyItself) {
  Tensor idx(ElementType::Int64, {30});
  for (std::int64_t i = 0; i < 30; ++i) idx.data<std::int64_t>()[i] = i == 12 ? 12 : 1;
  write_npy(dir / "idx.npy", idx);
  const std::string run =
      run_on("fails_sometimes.onnx") + " --data idx=" + q(dir / "idx.npy") + " --workers 1 -q --output ";
  ASSERT_EQ(run_cli(run + q(dir / "whole")).status, 4);
  for (const int k : {0, 2})
    ASSERT_EQ(run_cli(run + q(dir / fmt::format("part{}", k)) + fmt::format(" --shard {}/3", k)).status, 0);
  const auto part1 = dir / "part1";
  const auto stopped = run_cli(run + q(part1) + " --shard 1/3 --fail-fast");
  ASSERT_EQ(stopped.status, 4) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("; first: item 12 on worker cpu#0: ")) << "the whole run's index";
  const std::string parts = q(dir / "part0") + " " + q(part1) + " " + q(dir / "part2");
  const auto early = run_cli("merge " + parts + " --output " + q(dir / "merged"));
  EXPECT_EQ(early.status, 1);
  EXPECT_EQ(early.err, "onnxpool: error: " + part1.string() +
                           ": the shard's run did not finish (.onnxpool-journal is there): complete it with the same "
                           "run and --resume\n");
  const auto other = run_cli(run + q(part1) + " --shard 2/3 --resume");
  EXPECT_EQ(other.status, 1);
  EXPECT_THAT(other.err, HasSubstr("the run there is another run: its shard was \"1/3\", this run's is \"2/3\""));
  ASSERT_EQ(run_cli(run + q(part1) + " --shard 1/3 --resume").status, 4);
  const auto merged = run_cli("merge " + parts + " --output " + q(dir / "merged"));
  ASSERT_EQ(merged.status, 0) << merged.err;
  EXPECT_EQ(merged.out,
            "merged 3 shards: 30 items (1 failed) into " + (dir / "merged").string() + ": y.npy, failures.jsonl\n");
  expect_same_files(dir / "whole", dir / "merged");
}

// One line on stderr starting "onnxpool: error: " and naming `part`, exit status `status`, and nothing
// written to the output folder.
void expect_refusal(const test::CliResult& r, const std::string& part, const fs::path& out, int status = 1) {
  EXPECT_EQ(r.status, status) << r.err;
  EXPECT_THAT(r.err, StartsWith("onnxpool: error: "));
  EXPECT_THAT(r.err, HasSubstr(part));
  EXPECT_EQ(lines_of(r.err), 1U) << r.err;
  EXPECT_EQ(files_under(out), std::vector<std::string>{});
}

TEST_F(ShardCli, MergeRefusesWhatIsNotOneCompleteRun) {
  const std::string run = run_on("add_mul.onnx") + " --random 6 -q --output ";
  std::vector<fs::path> parts;
  for (std::size_t k = 0; k < 3; ++k) {
    parts.push_back(dir / fmt::format("part{}", k));
    ASSERT_EQ(run_cli(run + q(parts.back()) + fmt::format(" --shard {}/3", k)).status, 0);
  }
  const auto out = dir / "out";
  const auto merge = [&](const std::vector<fs::path>& shards) {
    std::string args = "merge";
    for (const auto& shard : shards) args.append(" ").append(q(shard));
    return run_cli(args + " --output " + q(out));
  };
  expect_refusal(merge({parts[0], parts[2]}), "shard 1/3 is missing", out);
  expect_refusal(merge({parts[0], parts[1], parts[1], parts[2]}), "are both shard 1/3", out);
  expect_refusal(merge({parts[0], parts[1], dir / "nope"}), (dir / "nope").string() + ": no such folder", out);
  // Another seed, another model.
  ASSERT_EQ(run_cli(run + q(dir / "seed") + " --seed 5 --shard 1/3").status, 0);
  expect_refusal(merge({parts[0], dir / "seed", parts[2]}), "its run's seed is 5, the other's 0", out);
  ASSERT_EQ(run_cli(run_on("trivial.onnx") + " --random 6 -q --shard 1/3 --output " + q(dir / "model")).status, 0);
  expect_refusal(merge({parts[0], dir / "model", parts[2]}), "its run's model.", out);
  // A truncated file.
  const auto bytes = read_file_bytes(parts[1] / "sum.npy");
  write_file_atomically(parts[1] / "sum.npy", std::span(bytes).first(bytes.size() - 4));
  expect_refusal(merge(parts), (parts[1] / "sum.npy").string() + ": truncated: ", out);
  // Usage: no --output, a bad K/N, --shard without --output.
  expect_refusal(run_cli("merge " + q(parts[0])), "--output is required", out, 2);
  expect_refusal(run_cli(run_on("add_mul.onnx") + " --random 6 --shard 1/0 --output " + q(out)), "--shard", out, 2);
  expect_refusal(run_cli(run_on("add_mul.onnx") + " --random 6 --shard 1/3"), "--shard requires --output", out, 2);
  // The output folder's rules are run's: not one holding files, unless --overwrite.
  write_file_atomically(parts[1] / "sum.npy", bytes);
  write_file_atomically(out / "x", {});
  const auto full = merge(parts);
  EXPECT_EQ(full.status, 1);
  EXPECT_THAT(full.err, HasSubstr(": the output folder is not empty (x ...)"));
  ASSERT_EQ(
      run_cli("merge " + q(parts[0]) + " " + q(parts[1]) + " " + q(parts[2]) + " --overwrite -q --output " + q(out))
          .status,
      0);
  EXPECT_EQ(files_under(out), (std::vector<std::string>{"prod.npy", "sum.npy", "x"}));
}

}  // namespace
}  // namespace onnxpool
