// `mpirun -np R onnxpool run ...` end to end on this machine (issue 12): the ranks' stacked outputs are
// byte for byte one process's, for every kind of source; a rank killed ends the job with mpirun's line
// naming it, and --resume (with fewer ranks) completes the run; a slower rank takes fewer items and the
// run ends near the ideal split; refusals are one line, from rank 0. Skipped, with the reason, in a
// build without MPI or where mpirun is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "onnxpool/tensor/tensor.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/errors.hpp"
#include "support/image_fixtures.hpp"
#include "support/model_paths.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using test::q;
using test::run_cli;
using test::run_shell;
using ::testing::HasSubstr;

using test::files_under;

// The lines of `err` that onnxpool printed (mpirun adds blocks of its own around a non-zero status).
std::vector<std::string> onnxpool_lines(const std::string& err) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < err.size()) {
    const std::size_t end = std::min(err.find('\n', start), err.size());
    const std::string line = err.substr(start, end - start);
    if (line.starts_with("onnxpool:")) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

class MpiRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ONNXPOOL_TEST_MPI == 0) GTEST_SKIP() << "onnxpool is built without MPI (Open MPI not found at build time)";
    if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun is not installed";
  }

  // mpirun on this machine, as root if need be, more ranks than cores allowed; shared memory copies
  // without ptrace (containers refuse it, and Open MPI would warn on every rank).
  static std::string mpirun(int ranks) {
    return fmt::format(
        "mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np {} {}", ranks,
        ONNXPOOL_CLI);
  }

  // The folders hold the same files with the same bytes; failure logs equal but for the workers named.
  static void expect_same_outputs(const std::filesystem::path& one, const std::filesystem::path& many) {
    ASSERT_EQ(files_under(one), files_under(many));
    for (const auto& file : files_under(one)) {
      if (file == "failures.jsonl") {
        EXPECT_TRUE(test::failures_without_workers(one / file) == test::failures_without_workers(many / file));
      } else {
        EXPECT_TRUE(test::slurp(one / file) == test::slurp(many / file)) << file << " differs";
      }
    }
  }

  test::TempDir dir;
};

TEST_F(MpiRun, EverySourceGivesTheBytesOfOneProcess) {
  // --random, stacked and per item.
  for (const std::string layout : {"", " --per-item"}) {
    const std::string run = "run " + q(model_path("add_mul.onnx")) + " --random 500 -q" + layout + " --output ";
    const std::string tag = layout.empty() ? "stacked" : "per-item";
    ASSERT_EQ(run_cli(run + q(dir / ("one-" + tag))).status, 0);
    const auto many = run_shell(mpirun(3) + " " + run + q(dir / ("many-" + tag)), 120);
    ASSERT_EQ(many.status, 0) << many.err;
    expect_same_outputs(dir / ("one-" + tag), dir / ("many-" + tag));
  }
  // --data, some items failing: the same failures, in the same order, and the same one line.
  Tensor idx(ElementType::Int64, {3000});
  for (std::int64_t i = 0; i < 3000; ++i) idx.data<std::int64_t>()[i] = i % 97 == 5 ? 12 : i % 10;
  write_npy(dir / "idx.npy", idx);
  const std::string data =
      "run " + q(model_path("fails_sometimes.onnx")) + " --data idx=" + q(dir / "idx.npy") + " -q --output ";
  const auto one = run_cli(data + q(dir / "one-data"));
  ASSERT_EQ(one.status, 4) << one.err;
  const auto many = run_shell(mpirun(3) + " " + data + q(dir / "many-data"), 120);
  EXPECT_EQ(many.status, 4) << many.err;
  const auto lines = onnxpool_lines(many.err);
  ASSERT_EQ(lines.size(), 1U) << many.err;
  EXPECT_THAT(lines[0], ::testing::StartsWith("onnxpool: error: 31 of 3000 items failed (" +
                                              (dir / "many-data" / "failures.jsonl").string() +
                                              "); first: item 5 on "
                                              "worker rank "));
  expect_same_outputs(dir / "one-data", dir / "many-data");

  // --images, one of them corrupt.
  if (const std::string lacks = test::python_lacks("numpy, PIL"); !lacks.empty()) GTEST_SKIP() << lacks;
  test::TempDir fixtures;
  const auto made = test::run_python(fixtures, test::kImageFixturesScript);
  ASSERT_EQ(made.status, 0) << made.output;
  std::filesystem::create_directory(dir / "images");
  for (const auto* name : {"rgb.jpg", "orient6.jpg", "truncated.jpg", "palette.png", "grey16.png"}) {
    std::filesystem::copy_file(fixtures / name, dir / "images" / name);
  }
  const std::string images =
      "run " + q(model_path("image_identity.onnx")) + " --images " + q(dir / "images") + " -q --output ";
  ASSERT_EQ(run_cli(images + q(dir / "one-images")).status, 4);
  const auto many_images = run_shell(mpirun(3) + " " + images + q(dir / "many-images"), 120);
  EXPECT_EQ(many_images.status, 4) << many_images.err;
  expect_same_outputs(dir / "one-images", dir / "many-images");
}

TEST_F(MpiRun, AKilledRankEndsTheJobAndResumeWithFewerRanksOrOneProcessCompletesIt) {
  constexpr std::int64_t kItems = 300'000;
  Tensor idx(ElementType::Int64, {kItems});
  for (std::int64_t i = 0; i < kItems; ++i) idx.data<std::int64_t>()[i] = i % 997 == 5 ? 12 : i % 10;
  write_npy(dir / "idx.npy", idx);
  const std::string run =
      "run " + q(model_path("fails_sometimes.onnx")) + " --data idx=" + q(dir / "idx.npy") + " -q --output ";
  ASSERT_EQ(run_cli(run + q(dir / "clean")).status, 4);

  // Once the journal names done items (its first commit), one rank is killed (mpirun's child `victim`
  // of three); the job ends, with mpirun's line naming the rank, and the folder is resumable.
  const auto kill_a_rank = [&](const std::filesystem::path& out, int victim) {
    const std::string script = mpirun(3) + " " + run + q(out) + " 2>" + q(dir / "err") + " & m=$!; " +
                               "until grep -qs '^done' " + q(out / ".onnxpool-journal") + "; do sleep 0.02; done; " +
                               fmt::format("kill -9 $(pgrep -P $m | sed -n {}p); ", victim) + "wait $m; echo $? >" +
                               q(dir / "status");
    const auto started = std::chrono::steady_clock::now();
    const auto killed = run_shell("sh -c " + q(script), 120);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_EQ(killed.status, 0) << "the script timed out: a hang";
    EXPECT_LT(seconds, 60.0) << "no hang";
    EXPECT_NE(test::slurp(dir / "status"), "0\n");
    EXPECT_THAT(test::slurp(dir / "err"), ::testing::ContainsRegex("process rank [0-9] .*exited on signal 9"));
    ASSERT_TRUE(std::filesystem::exists(out / ".onnxpool-journal")) << "the run is resumable";
  };
  // Continued by two ranks.
  kill_a_rank(dir / "killed", 2);
  const auto resumed = run_shell(mpirun(2) + " " + run + q(dir / "killed") + " --resume", 120);
  EXPECT_EQ(resumed.status, 4) << resumed.err;
  test::expect_like_clean_run(dir / "killed", dir / "clean", 301);
  // Another rank killed (mpirun's first child, rank 0 as Open MPI starts them: the journal's keeper),
  // continued by one process.
  kill_a_rank(dir / "killed-0", 1);
  const auto alone = run_cli(run + q(dir / "killed-0") + " --resume");
  EXPECT_EQ(alone.status, 4) << alone.err;
  test::expect_like_clean_run(dir / "killed-0", dir / "clean", 301);
}

// Rank 0 reads an item every 40 ms, ranks 1 and 2 every 10 ms: 25 + 100 + 100 items/s. The ideal split
// of 450 items gives rank 0 50 of them and ends in 2 s; dynamic chunks come close to it.
TEST_F(MpiRun, ASlowerRankTakesFewerItemsAndTheRunEndsNearTheIdealSplit) {
  const std::string run = "run " + q(model_path("add_mul.onnx")) + " --random 450 -q --output " + q(dir / "out") +
                          " --json " + q(dir / "run.json") + " --test-item-delay ";
  const std::string mpmd =
      "mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none "
      "-np 1 " +
      std::string(ONNXPOOL_CLI) + " " + run + "40 : -np 2 " + ONNXPOOL_CLI + " " + run + "10";
  const auto r = run_shell(mpmd, 120);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto summary = nlohmann::json::parse(test::slurp(dir / "run.json"));
  const auto& ranks = summary.at("ranks");
  ASSERT_EQ(ranks.size(), 3U);
  const auto items = [&](std::size_t k) { return ranks[k].at("items").get<std::size_t>(); };
  EXPECT_EQ(items(0) + items(1) + items(2), 450U);
  SCOPED_TRACE(fmt::format("items per rank: {} {} {}, {:.2f} s", items(0), items(1), items(2),
                           summary.at("seconds").get<double>()));
  EXPECT_GE(items(0), 25U);  // about 50: in proportion to its speed
  EXPECT_LE(items(0), 80U);
  EXPECT_GE(items(1), 3 * items(0));
  EXPECT_GE(items(2), 3 * items(0));
  constexpr double kIdeal = 450.0 / (1000.0 / 40 + 2 * 1000.0 / 10);
  EXPECT_LE(summary.at("seconds").get<double>(), 1.2 * kIdeal);
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "sum.npy"));
}

TEST_F(MpiRun, RefusalsAreOneLineFromRankZero) {
  const std::string add_mul = "run " + q(model_path("add_mul.onnx")) + " --random 10 -q";
  std::filesystem::create_directories(dir / "busy");
  std::ofstream(dir / "busy" / "notes.txt") << "mine";
  const auto busy = run_shell(mpirun(3) + " " + add_mul + " --output " + q(dir / "busy"), 120);
  EXPECT_EQ(busy.status, 1);
  EXPECT_EQ(onnxpool_lines(busy.err),
            std::vector<std::string>{"onnxpool: error: " + (dir / "busy").string() +
                                     ": the output folder is not empty (notes.txt ...); give another folder, or "
                                     "--overwrite to write over what is there"});
  EXPECT_EQ(files_under(dir / "busy"), std::vector<std::string>{"notes.txt"}) << "nothing written";

  const auto usage = run_shell(mpirun(3) + " " + add_mul + " --workers lots", 120);
  EXPECT_EQ(usage.status, 2);
  EXPECT_EQ(onnxpool_lines(usage.err).size(), 1U) << usage.err;

  // Strings are stacked by one process only (their width is known at the end); --per-item writes them.
  std::vector<std::string> text{"a", "bb", "ccc", "dddd", "eeeee", "ffffff"};
  write_npy(dir / "text.npy", Tensor::from_strings({6}, text));
  const std::string strings = "run " + q(model_path("strings.onnx")) + " --data text=" + q(dir / "text.npy") + " -q";
  const auto stacked = run_shell(mpirun(2) + " " + strings + " --output " + q(dir / "strings"), 120);
  EXPECT_EQ(stacked.status, 1);
  const auto lines = onnxpool_lines(stacked.err);
  ASSERT_EQ(lines.size(), 1U) << stacked.err;
  EXPECT_THAT(lines[0], HasSubstr("holds strings, which several processes cannot stack into one file: --per-item"));
  ASSERT_EQ(run_cli(strings + " --per-item --output " + q(dir / "strings-one")).status, 0);
  const auto apart = run_shell(mpirun(2) + " " + strings + " --per-item --output " + q(dir / "strings-many"), 120);
  ASSERT_EQ(apart.status, 0) << apart.err;
  expect_same_outputs(dir / "strings-one", dir / "strings-many");
}

}  // namespace
}  // namespace onnxpool
