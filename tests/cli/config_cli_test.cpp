// A tuned configuration end to end: `bench --grid ... --best --save-config FILE` saves the fastest
// configuration it measured, `run --config FILE` takes it (a flag given still wins), `run -v` says which
// pool it made and why, and a bad file is one line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "onnxpool/pool/pool.hpp"
#include "support/cli_util.hpp"
#include "support/model_paths.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using test::q;
using test::run_cli;
using ::testing::HasSubstr;

TEST(CliConfig, BenchSavesTheFastestConfigAndRunTakesItUnlessAFlagSaysOtherwise) {
  test::TempDir dir;
  const auto file = dir / "tuned.json";
  const auto bench =
      run_cli("bench " + q(model_path("add_mul.onnx")) +
              " --grid workers=1,2 threads=1 --items 200 --duration 0.1 --best -q --save-config " + q(file));
  ASSERT_EQ(bench.status, 0) << bench.err;
  EXPECT_THAT(bench.out, HasSubstr("saved to " + file.string()));
  std::ifstream in(file);
  const auto saved = nlohmann::json::parse(in);
  const int workers = saved.at("workers").get<int>();
  EXPECT_TRUE(workers == 1 || workers == 2) << saved.dump();
  EXPECT_EQ(saved.at("threads").get<int>(), 1);
  EXPECT_EQ(saved.at("tuned").at("by").get<std::string>(), "onnxpool bench --grid workers=1,2 threads=1");
  EXPECT_GT(saved.at("tuned").at("items_per_s").get<double>(), 0.0);
  // The best row's throughput is the one the table printed as best.
  EXPECT_THAT(bench.out, HasSubstr(fmt::format("best throughput: {:.2f} items/s with workers={} threads=1",
                                               saved.at("tuned").at("items_per_s").get<double>(), workers)));

  const std::string run = "-v run " + q(model_path("add_mul.onnx")) + " --random 20 -q --config " + q(file);
  const auto taken = run_cli(run);
  ASSERT_EQ(taken.status, 0) << taken.err;
  EXPECT_THAT(taken.err, HasSubstr(fmt::format("onnxpool: pool: {} worker{} (1 thread), batch 1, dynamic policy: "
                                               "from --config {} (measured ",
                                               workers, workers == 1 ? "" : "s", file.string())));
  const auto overridden = run_cli(run + " --workers 2 --threads 1 --policy static");
  ASSERT_EQ(overridden.status, 0) << overridden.err;
  EXPECT_THAT(overridden.err, HasSubstr("onnxpool: pool: 2 workers (1 thread), batch 1, static policy: as given "
                                        "(--workers 2 --threads 1), the rest from --config "));
}

TEST(CliConfig, RunVerboseSaysTheAutomaticChoiceAndWhy) {
  const auto many = run_cli("-v run " + q(model_path("add_mul.onnx")) + " --random 20 -q --workers 2");
  ASSERT_EQ(many.status, 0) << many.err;
  EXPECT_THAT(many.err, HasSubstr("onnxpool: pool: 2 workers (1 thread), batch 1, dynamic policy: as given "
                                  "(--workers 2)\n"));
  // After the command too, as `run -v`.
  const auto after = run_cli("run " + q(model_path("add_mul.onnx")) + " --random 20 -q --workers 2 -v");
  ASSERT_EQ(after.status, 0) << after.err;
  EXPECT_THAT(after.err, HasSubstr("onnxpool: pool: 2 workers (1 thread), batch 1, dynamic policy: as given "
                                   "(--workers 2)\n"));
  const auto one = run_cli("-v run " + q(model_path("add_mul.onnx")) + " --random 1 -q");
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_THAT(one.err, HasSubstr("onnxpool: pool: 1 worker ("));
  EXPECT_THAT(one.err, HasSubstr("dynamic policy: automatic for "));
  const auto automatic = run_cli("-v run " + q(model_path("add_mul.onnx")) + " --random 20 -q");
  ASSERT_EQ(automatic.status, 0) << automatic.err;
  if (CpuTopology::detect().usable_count() > 1) {
    const int cores = CpuTopology::detect().usable_count();
    const int narrow = cores / automatic_threads_per_worker(cores);
    EXPECT_THAT(automatic.err,
                HasSubstr(fmt::format("onnxpool: pool: {} workers ({} x {} thread{}, each on cores of its own, for a "
                                      "deep queue; 1 x {} threads on cores ",
                                      narrow + 1, narrow, automatic_threads_per_worker(cores),
                                      automatic_threads_per_worker(cores) == 1 ? "" : "s", cores)));
    EXPECT_THAT(automatic.err, HasSubstr(fmt::format(" for lone items, never beside them), batch learnt, 1 to 8, "
                                                     "dynamic policy: automatic for {} cores: ",
                                                     cores)));
    EXPECT_THAT(automatic.err, HasSubstr("the queue's depth picks the width"));
    EXPECT_THAT(automatic.err, HasSubstr("each worker stacks up to 8 queued items only where its own runs show "
                                         "stacking faster"));
  }
  const auto quiet = run_cli("run " + q(model_path("add_mul.onnx")) + " --random 1 -q");
  EXPECT_EQ(quiet.err, "") << "said only with -v";
}

TEST(CliConfig, ABadConfigFileIsOneLine) {
  test::TempDir dir;
  std::ofstream(dir / "bad.json") << R"({"onnxpool_config":1,"workers":2,"threads":1,"batch":1,"policy":"eager"})";
  const std::string run = "run " + q(model_path("add_mul.onnx")) + " --random 2 -q --config ";
  const auto bad = run_cli(run + q(dir / "bad.json"));
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.err,
              ::testing::StartsWith("onnxpool: error: --config: " + (dir / "bad.json").string() + ": \"policy\": "));
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1);
  const auto missing = run_cli(run + q(dir / "none.json"));
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.err, HasSubstr("none.json"));
  const auto folder = run_cli(run + q(dir.path()));
  EXPECT_EQ(folder.status, 1);
  const auto usage = run_cli("bench " + q(model_path("add_mul.onnx")) + " --save-config " + q(dir / "x.json"));
  EXPECT_EQ(usage.status, 2) << "--save-config needs --grid";
}

}  // namespace
}  // namespace onnxpool
