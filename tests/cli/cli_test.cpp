// The onnxpool CLI end to end: info, devices, run (outputs, compare), and one clear line for each bad input.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "onnxpool/pool/pool_config.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/errors.hpp"
#include "support/model_paths.hpp"
#include "support/python_fixture.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using test::run_cli;
using ::testing::AnyOf;
using ::testing::EndsWith;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using test::q;

using test::files_under;

TEST(CliInfo, PrintsEverySymbolicDim) {
  const auto r = run_cli("info " + q(model_path("symbolic.onnx")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("[batch,channels,height,16]"));
  EXPECT_THAT(r.out, HasSubstr("[batch,channels]"));
  EXPECT_THAT(r.out, HasSubstr("ai.onnx 17"));
}

TEST(CliInfo, JsonHasNamesTypesAndSymbolicDims) {
  const auto r = run_cli("info --json " + q(model_path("symbolic.onnx")));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["inputs"][0]["name"], "x");
  EXPECT_EQ(json["inputs"][0]["type"], "float32");
  EXPECT_EQ(json["inputs"][0]["shape"], nlohmann::json::parse(R"(["batch","channels","height",16])"));
  EXPECT_EQ(json["opsets"][0]["version"], 17);
}

TEST(CliDevices, ListsTheCpuProvider) {
  const auto r = run_cli("devices --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["onnxruntime_version"], "1.29.0");
  EXPECT_THAT(json["providers"].dump(), HasSubstr("CPUExecutionProvider"));
  EXPECT_GE(json["cpu"]["logical_cores"].get<int>(), 1);
}

TEST(CliDevices, VerbosityShowsOnnxRuntimesOwnLog) {
  // Quiet by default; -vv shows ONNX Runtime's device discovery (how a missing GPU is diagnosed).
  const auto quiet = run_cli("devices");
  ASSERT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  const auto verbose = run_cli("-vv devices");
  ASSERT_EQ(verbose.status, 0) << verbose.err;
  EXPECT_THAT(verbose.err, HasSubstr("Discovered OrtHardwareDevice"));
  EXPECT_EQ(verbose.out, quiet.out);
}

TEST(CliRun, TwoWorkersWriteTheSameOutputsAsOne) {
  test::TempDir dir;
  const auto model = q(model_path("mobilenetv2.onnx"));
  for (const char* policy : {"static", "dynamic"}) {
    const auto one = dir / (std::string("one_") + policy);
    const auto two = dir / (std::string("two_") + policy);
    auto r =
        run_cli("run " + model + " --random 16 --workers 1 --threads 1 --policy " + policy + " --output " + q(one));
    ASSERT_EQ(r.status, 0) << r.err;
    r = run_cli("run " + model + " --random 16 --workers 2 --threads 1 --policy " + policy + " --output " + q(two));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("16 items in"));
    EXPECT_THAT(r.out, HasSubstr("cpu#1"));
    // One stacked file: the 16 items' rows in item order.
    ASSERT_EQ(files_under(one), std::vector<std::string>{"output.npy"});
    EXPECT_EQ(files_under(two), std::vector<std::string>{"output.npy"});
    const Tensor stacked = read_npy(one / "output.npy");
    EXPECT_EQ(stacked.shape(), (Shape{16, 1000}));
    EXPECT_TRUE(stacked == read_npy(two / "output.npy"));
  }
  // The stacked rows are the per-item outputs, in item order.
  const auto apart = dir / "apart";
  const auto r = run_cli("run " + model + " --random 16 --workers 2 --threads 1 --per-item --output " + q(apart));
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(files_under(apart).size(), 16U);
  const Tensor stacked = read_npy(dir / "one_static" / "output.npy");
  for (std::size_t i = 0; i < 16; ++i) {
    const Tensor item = read_npy(apart / fmt::format("item_{}", i) / "output.npy");
    ASSERT_EQ(item.shape(), (Shape{1, 1000}));
    const auto row = stacked.data<float>().subspan(i * 1000, 1000);
    EXPECT_TRUE(std::equal(row.begin(), row.end(), item.data<float>().begin())) << "item " << i;
  }
}

TEST(CliRun, OneTestCaseInOneCommand) {
  const auto data = model_path("add_mul/test_data_set_0");
  auto r = run_cli("run " + q(model_path("add_mul.onnx")) + " --inputs " + q(data) + " --compare " + q(data));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sum: max abs error 0"));
  EXPECT_THAT(r.out, HasSubstr("OK"));

  // The types model: float16, int64, bool, uint8 and a rank-0 input.
  const auto types = model_path("types/test_data_set_0");
  r = run_cli("run " + q(model_path("types.onnx")) + " --inputs " + q(types) + " --compare " + q(types));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("MISMATCH")));
}

TEST(CliRun, MismatchExitsThree) {
  test::TempDir dir;
  const auto data = model_path("add_mul/test_data_set_0");
  for (const auto& f : std::filesystem::directory_iterator(data)) std::filesystem::copy(f.path(), dir.path());
  auto wrong = read_tensor_pb(dir / "output_0.pb");
  wrong.tensor.data<float>()[1] += 1.0F;
  write_tensor_pb(dir / "output_0.pb", wrong);
  const auto r =
      run_cli("run " + q(model_path("add_mul.onnx")) + " --inputs " + q(data) + " --compare " + q(dir.path()));
  EXPECT_EQ(r.status, 3);
  EXPECT_THAT(r.out, HasSubstr("MISMATCH"));
  EXPECT_THAT(r.out, HasSubstr("element 1"));
}

// --data: each item is its rows of the memory-mapped arrays; the stacked outputs are the whole arrays'.
TEST(CliRun, DataArraysGiveEachItemItsRows) {
  test::TempDir dir;
  Tensor a(ElementType::Float, {6, 4});
  Tensor b(ElementType::Float, {6, 4});
  for (std::size_t i = 0; i < 24; ++i) {
    a.data<float>()[i] = static_cast<float>(i);
    b.data<float>()[i] = 0.5F;
  }
  write_npy(dir / "a.npy", a);
  write_npy(dir / "b.npy", b);
  const auto out = dir / "out";
  const auto r = run_cli("run " + q(model_path("add_mul.onnx")) + " --data a=" + q(dir / "a.npy") +
                         " --data b=" + q(dir / "b.npy") + " --dim batch_size=2 --workers 2 --output " + q(out));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 items in"));
  const Tensor sum = read_npy(out / "sum.npy");
  ASSERT_EQ(sum.shape(), (Shape{6, 4}));
  for (std::size_t i = 0; i < 24; ++i) EXPECT_EQ(sum.data<float>()[i], static_cast<float>(i) + 0.5F) << i;
  const auto both = run_cli("run " + q(model_path("add_mul.onnx")) + " --data a=" + q(dir / "a.npy") + " --random 3");
  EXPECT_EQ(both.status, 1);
  EXPECT_THAT(both.err, HasSubstr("--data gives the item count"));
}

// --list: one path per line; an entry that cannot be read fails alone, named by its path; per-item
// folders are numbered (a path is no folder name).
TEST(CliRun, AListOfItems) {
  test::TempDir dir;
  Tensor x(ElementType::Float, {1, 4});
  write_npy(dir / "a.npy", x);
  write_npy(dir / "b.npy", x);
  const std::string list = "a.npy\nmissing.npy\n" + (dir / "b.npy").string() + "\n";
  write_file_atomically(dir / "list.txt", std::as_bytes(std::span(list)));
  const auto out = dir / "out";
  const auto r = run_cli("run " + q(model_path("trivial.onnx")) + " --list " + q(dir / "list.txt") +
                         " --per-item --output " + q(out));
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("1 of 3 items failed"));
  EXPECT_EQ(files_under(out), (std::vector<std::string>{"failures.jsonl", "item_0/y.npy", "item_2/y.npy"}));
  EXPECT_THAT(test::slurp(out / "failures.jsonl"), HasSubstr((dir / "missing.npy").string()));
}

TEST(CliRun, BatchedRunsAndNamedItemFolders) {
  test::TempDir dir;
  const auto apart = dir / "apart";
  auto r = run_cli("run " + q(model_path("add_mul.onnx")) + " --random 5 --batch 2 --workers 2 --per-item --output " +
                   q(apart));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(files_under(apart).size(), 10U);
  EXPECT_TRUE(std::filesystem::exists(apart / "item_4" / "prod.npy"));
  // Stacked: items of batch 2 (add_mul's batch_size dim, bound) give 2 rows each.
  const auto stacked = dir / "stacked";
  r = run_cli("run " + q(model_path("add_mul.onnx")) +
              " --random 5 --dim batch_size=2 --batch 2 --workers 2 --output " + q(stacked));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(files_under(stacked), (std::vector<std::string>{"prod.npy", "sum.npy"}));
  EXPECT_EQ(read_npy(stacked / "sum.npy").shape()[0], 10);
}

TEST(CliRun, EachWorkerSaysWhatItIsAndHowManyItemsItTook) {
  const auto r = run_cli("run " + q(model_path("add_mul.onnx")) + " --random 6 --devices cpu:1,cpu:1@3");
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_THAT(line, StartsWith("6 items in ")) << r.out;
  std::size_t total = 0;
  std::vector<std::string> workers;
  while (std::getline(lines, line)) {
    if (line.starts_with("  time: ")) continue;  // where the time went, after the workers
    workers.push_back(line);
    const auto at = line.find(" items");
    ASSERT_NE(at, std::string::npos) << line;
    const auto start = line.find_last_of(' ', at - 1) + 1;
    total += std::stoul(line.substr(start, at - start));
  }
  ASSERT_EQ(workers.size(), 2U) << r.out;
  EXPECT_THAT(workers[0], StartsWith("  cpu#0    1 thread "));
  EXPECT_THAT(workers[1], HasSubstr("1 thread, batch 3"));
  EXPECT_EQ(total, 6U) << r.out;
}

// One bad input: exit status 1, exactly one line on stderr starting "onnxpool: error:" and naming
// `part`, and nothing written to the output folder.
void expect_one_line_error(const std::string& args, const std::string& part, int status = 1) {
  test::TempDir dir;
  const auto out = dir / "out";
  const auto r = run_cli(args + " --output " + q(out));
  EXPECT_EQ(r.status, status) << args << "\n" << r.err;
  EXPECT_THAT(r.err, StartsWith("onnxpool: error: ")) << args;
  EXPECT_THAT(r.err, HasSubstr(part)) << args;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_EQ(files_under(out), std::vector<std::string>{}) << args;
}

class CliBadInput : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::string run_on(const std::string& model) { return "run " + q(model_path(model)); }
};

TEST_F(CliBadInput, Models) {
  expect_one_line_error("run " + q(dir / "nope.onnx"), "model file not found");
  write_file_atomically(dir / "empty.onnx", {});
  expect_one_line_error("run " + q(dir / "empty.onnx"), "empty");
  const auto bytes = read_file_bytes(model_path("mobilenetv2.onnx"));
  write_file_atomically(dir / "cut.onnx", std::span(bytes).first(100000));
  expect_one_line_error("run " + q(dir / "cut.onnx"), "cut.onnx");
  const std::string text = "<html>not a model</html>";
  write_file_atomically(dir / "page.onnx", std::as_bytes(std::span(text)));
  expect_one_line_error("run " + q(dir / "page.onnx"), "page.onnx");
  const auto r = run_cli("info " + q(dir / "nope.onnx") + " --json");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "onnxpool: error: " + (dir / "nope.onnx").string() + ": model file not found\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CliBadInput, InputFiles) {
  write_npy(dir / "ints.npy", Tensor(ElementType::Int64, {1, 3, 224, 224}));
  write_npy(dir / "rank2.npy", Tensor(ElementType::Float, {3, 224}));
  write_npy(dir / "small.npy", Tensor(ElementType::Float, {1, 3, 32, 32}));
  expect_one_line_error(run_on("mobilenetv2.onnx") + " --input nope=" + q(dir / "ints.npy"), "no input 'nope'");
  expect_one_line_error(run_on("mobilenetv2.onnx") + " --input input=" + q(dir / "ints.npy"), "element type int64");
  expect_one_line_error(run_on("mobilenetv2.onnx") + " --input input=" + q(dir / "rank2.npy"), "rank");
  expect_one_line_error(run_on("mobilenetv2.onnx") + " --input input=" + q(dir / "small.npy"), "dim 2 must be 224");
  expect_one_line_error(run_on("mobilenetv2.onnx") + " --input input=" + q(dir / "missing.npy"), "missing.npy");

  const auto npy = encode_npy(Tensor(ElementType::Float, {1, 3, 224, 224}));
  write_file_atomically(dir / "cut.npy", std::span(npy).first(npy.size() - 10));
  expect_one_line_error(run_on("mobilenetv2.onnx") + " --input input=" + q(dir / "cut.npy"), "cut.npy");

  // A hostile .pb: a tensor declaring 2^40 x 2^40 floats with no data.
  const std::vector<std::byte> hostile{std::byte{0x08}, std::byte{0x80}, std::byte{0x80}, std::byte{0x80},
                                       std::byte{0x80}, std::byte{0x80}, std::byte{0x20}, std::byte{0x08},
                                       std::byte{0x80}, std::byte{0x80}, std::byte{0x80}, std::byte{0x80},
                                       std::byte{0x80}, std::byte{0x20}, std::byte{0x10}, std::byte{0x01}};
  write_file_atomically(dir / "huge.pb", hostile);
  expect_one_line_error(run_on("mobilenetv2.onnx") + " --input input=" + q(dir / "huge.pb"), "huge.pb");

  // Special files are refused before they are read: a FIFO with no writer would block for ever,
  // /dev/urandom never ends, /dev/zero would fill memory. (timeout: a hang fails the test, not CI.)
  ASSERT_EQ(::mkfifo((dir / "fifo.npy").c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/urandom", dir / "random.pb");
  std::filesystem::create_symlink("/dev/zero", dir / "zero.npy");
  for (const char* name : {"fifo.npy", "random.pb", "zero.npy"}) {
    const auto r = run_cli(run_on("add_mul.onnx") + " --input a=" + q(dir / name), 20);
    EXPECT_EQ(r.status, 1) << name << " (124: it hung)";
    EXPECT_EQ(r.err, "onnxpool: error: cannot read '" + (dir / name).string() +
                         "': not a regular file (a FIFO, a device or a socket)\n");
  }
}

TEST_F(CliBadInput, DimsDevicesPolicies) {
  expect_one_line_error(run_on("symbolic.onnx"), "symbolic dim 'channels' is not bound");
  expect_one_line_error(run_on("symbolic.onnx") + " --dim channels", "NAME=VALUE");
  expect_one_line_error(run_on("add_mul.onnx") + " --devices tpu:0", "unknown device 'tpu:0'");
  expect_one_line_error(run_on("add_mul.onnx") + " --devices cuda:0", "cuda:0");
  expect_one_line_error(run_on("add_mul.onnx") + " --policy fast", "unknown policy 'fast'");
  expect_one_line_error(run_on("batchless.onnx") + " --batch 4", "batch");
  expect_one_line_error(run_on("add_mul.onnx") + " --workers 0", "--workers", 2);  // a usage error
  expect_one_line_error(run_on("add_mul.onnx") + " --no-such-option", "--no-such-option", 2);
}

// Values that would be taken silently (wrapped around, ignored, or writing nothing) are usage errors
// naming the value.
TEST_F(CliBadInput, ValuesThatWouldBeTakenSilentlyAreRefused) {
  const std::string run = run_on("add_mul.onnx") + " --random 2 -q";
  const std::string seed_range = "give an integer from 0 to 18446744073709551615";
  expect_one_line_error(run + " --seed -1", "--seed: '-1' is not a seed: " + seed_range, 2);
  expect_one_line_error(run + " --seed 18446744073709551616", "'18446744073709551616' is not a seed", 2);
  expect_one_line_error(run + " --seed 1e3", "'1e3' is not a seed", 2);
  expect_one_line_error(run + " --devices ''", "--devices: empty: give at least one device (e.g. cpu)", 2);
  const auto empty_output = run_cli(run + " --output ''");
  EXPECT_EQ(empty_output.status, 2);
  EXPECT_EQ(empty_output.err, "onnxpool: error: --output: empty: give a folder (see --help)\n");
  expect_one_line_error(run + " --dim nosuch=3",
                        "--dim nosuch=3: no input has a dim named 'nosuch' (the inputs' named dims: batch_size)", 2);
  EXPECT_EQ(run_cli(run + " --seed 18446744073709551615 --dim batch_size=2").status, 0) << "the largest seed";
}

// What the machine cannot serve is refused at once (nothing is expanded or started first), with the
// limit and the flag that forces it; more workers than items is fine: the pool makes one per item.
TEST_F(CliBadInput, AbsurdCountsAreRefusedAtOnceWithTheLimitNamed) {
  const std::string run = run_on("mobilenetv2.onnx") + " --random 4 -q";
  const std::string limit = fmt::format("more than this machine can serve (at most {} per core", kMaxThreadsPerCore);
  const std::string force = "; --oversubscribe runs it anyway";
  expect_one_line_error(run + " --threads 100000", "--threads 100000: 1 worker would start 100000 threads");
  expect_one_line_error(run + " --threads 100000", limit + ", ");
  expect_one_line_error(run + " --threads 100000", force);
  expect_one_line_error(run + " -w 1048576 -t 1048576", "--threads 1048576: ");
  expect_one_line_error(run + " --devices 'cpu*100000'", "--devices cpu*100000: 100000 workers would start");
  expect_one_line_error(run + " --devices 'cpu*2000000000,cpu*2000000000'",
                        "4000000000 workers is more than any pool may have (1048576)");
  expect_one_line_error(run_on("add_mul.onnx") + " --random 100000 --workers 100000",
                        "--workers 100000: 100000 workers would start 100000 threads");

  // --workers 100000 for 4 items: 4 workers, each item run.
  const auto capped = run_cli(run_on("add_mul.onnx") + " --random 4 --workers 100000 --output " + q(dir / "capped"));
  ASSERT_EQ(capped.status, 0) << capped.err;
  EXPECT_EQ(std::count(capped.out.begin(), capped.out.end(), '#'), 4) << "one worker per item: " << capped.out;
  EXPECT_EQ(read_npy(dir / "capped" / "sum.npy").shape()[0], 4);
  // An expert who means it: 20 threads per core on this machine, forced.
  const int cores = CpuTopology::detect().logical_count();
  const auto forced =
      run_cli(run_on("add_mul.onnx") + fmt::format(" --random 2 -w 1 -t {} --oversubscribe -q", 20 * cores));
  EXPECT_EQ(forced.status, 0) << forced.err;
  const auto bench = run_cli("bench " + q(model_path("add_mul.onnx")) + " --grid workers=1,4096 --items 2");
  EXPECT_EQ(bench.status, 1);
  EXPECT_THAT(bench.err, HasSubstr("--grid workers=4096: 4096 workers would start 4096 threads")) << bench.err;
  EXPECT_THAT(bench.err, HasSubstr(force)) << bench.err;
}

// An error stays one readable line whatever the input: a .pb of 10,000 dims once gave a line of 20,107
// characters; a 100 KB argument (a shell glob over thousands of files is as long) once crashed ONNX
// Runtime's telemetry while the environment was made (see runtime.cpp), and its telemetry wrote under
// $HOME/.cache.
TEST_F(CliBadInput, LongValuesAreElidedAndLongCommandLinesServed) {
  std::vector<std::byte> dims;
  for (int i = 0; i < 10000; ++i) dims.insert(dims.end(), {std::byte{0x08}, std::byte{0x01}});  // dims: 1
  dims.insert(dims.end(), {std::byte{0x10}, std::byte{0x01}});                                  // float
  write_file_atomically(dir / "dims.pb", dims);
  const auto r = run_cli(run_on("add_mul.onnx") + " --input a=" + q(dir / "dims.pb"));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("declared shape [1,1,1,… 10000 dims] needs 1 float_data values")) << r.err;
  EXPECT_LT(r.err.size(), 300U);

  const std::string long_value(100000, 'x');
  for (const std::string& args : {" --devices " + long_value, " --dim " + long_value + "=3"}) {
    const auto refused = run_cli(run_on("add_mul.onnx") + args);
    EXPECT_TRUE(refused.status == 1 || refused.status == 2) << refused.status;
    EXPECT_THAT(refused.err, StartsWith("onnxpool: error: ")) << refused.err.substr(0, 200);
    EXPECT_THAT(refused.err, HasSubstr("characters left out"));
    EXPECT_LT(refused.err.size(), 1200U);
    EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1);
  }
  // A valid command line of 90 KB runs, and ONNX Runtime writes nothing under $HOME.
  std::filesystem::create_directories(dir / "home");
  const char* home = std::getenv("HOME");
  const std::string saved = home != nullptr ? home : "";
  ::setenv("HOME", (dir / "home").c_str(), 1);
  std::string quiet;
  for (int i = 0; i < 30000; ++i) quiet += " -q";  // 90 KB: one shell argument holds 128 KB at most
  const auto served = run_cli(run_on("add_mul.onnx") + quiet);
  ::setenv("HOME", saved.c_str(), 1);
  EXPECT_EQ(served.status, 0) << served.err.substr(0, 300);
  EXPECT_FALSE(std::filesystem::exists(dir / "home" / ".cache")) << "nothing written under $HOME";
}

TEST_F(CliBadInput, OutputFolderNotWritable) {
  const auto r = run_cli(run_on("add_mul.onnx") + " --output /etc/hostname/out");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, StartsWith("onnxpool: error: /etc/hostname/out"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// A run whose items partly fail keeps every good result: the good items' outputs are written (equal to
// a clean run's), the failed ones are listed in failures.jsonl with their index, name, worker and cause
// (a corrupt file fails before reaching a worker), and the run ends with one line and exit status 4.
TEST_F(CliBadInput, FailingItemsCostOnlyThemselves) {
  const auto data = dir / "data";
  const std::vector<std::int64_t> indices{3, 12, 5, 40};  // 12 and 40 are out of the table's 10 rows
  for (std::size_t i = 0; i < indices.size(); ++i) {
    Tensor idx(ElementType::Int64, {1});
    idx.data<std::int64_t>()[0] = indices[i];
    std::filesystem::create_directories(data / fmt::format("test_data_set_{}", i));
    write_npy(data / fmt::format("test_data_set_{}", i) / "idx.npy", idx);
  }
  // A fifth item whose file is cut short: it fails while being read.
  const auto npy = encode_npy(Tensor(ElementType::Int64, {1}));
  std::filesystem::create_directories(data / "test_data_set_4");
  write_file_atomically(data / "test_data_set_4" / "idx.npy", std::span(npy).first(npy.size() - 4));

  const auto out = dir / "out";
  const auto r = run_cli(run_on("fails_sometimes.onnx") + " --inputs " + q(data) + " --workers 2 --output " + q(out));
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("onnxpool: error: 3 of 5 items failed (" + (out / "failures.jsonl").string() +
                                "); first: item 1 (test_data_set_1) on worker cpu#"));
  EXPECT_EQ(files_under(out), (std::vector<std::string>{"failures.jsonl", "y.npy"}));
  // The good items' rows are the table's rows 3 and 5 (row r is 4r..4r+3); the failed items' are zero.
  const Tensor y = read_npy(out / "y.npy");
  ASSERT_EQ(y.shape(), (Shape{5, 4}));
  EXPECT_THAT(y.data<float>(),
              ::testing::ElementsAre(12, 13, 14, 15, 0, 0, 0, 0, 20, 21, 22, 23, 0, 0, 0, 0, 0, 0, 0, 0));
  // --per-item: the good items' folders.
  const auto apart = dir / "apart";
  const auto r2 = run_cli(run_on("fails_sometimes.onnx") + " --inputs " + q(data) + " --per-item --output " + q(apart));
  EXPECT_EQ(r2.status, 4) << r2.err;
  EXPECT_EQ(files_under(apart),
            (std::vector<std::string>{"failures.jsonl", "test_data_set_0/y.npy", "test_data_set_2/y.npy"}));

  std::ifstream log(out / "failures.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0]["index"], 1);
  EXPECT_EQ(lines[0]["name"], "test_data_set_1");
  EXPECT_THAT(lines[0]["worker"].get<std::string>(), StartsWith("cpu#"));
  EXPECT_THAT(lines[0]["cause"].get<std::string>(), HasSubstr("idx=12"));
  EXPECT_EQ(lines[1]["index"], 3);
  EXPECT_THAT(lines[1]["cause"].get<std::string>(), HasSubstr("idx=40"));
  EXPECT_EQ(lines[2]["index"], 4);
  EXPECT_EQ(lines[2]["worker"], "") << "it failed while being read";
  EXPECT_THAT(lines[2]["cause"].get<std::string>(), HasSubstr("idx.npy"));

  // --fail-fast: stops taking items at the first failure; the items already in flight (a window of
  // four per worker) finish. 40 items, the second bad.
  const auto many = dir / "many";
  for (std::size_t i = 0; i < 40; ++i) {
    Tensor idx(ElementType::Int64, {1});
    idx.data<std::int64_t>()[0] = i == 1 ? 12 : 3;
    std::filesystem::create_directories(many / fmt::format("test_data_set_{}", i));
    write_npy(many / fmt::format("test_data_set_{}", i) / "idx.npy", idx);
  }
  const auto fast = run_cli(run_on("fails_sometimes.onnx") + " --inputs " + q(many) + " --workers 1 --fail-fast");
  EXPECT_EQ(fast.status, 4) << fast.err;
  // Without --output the line still names the first failure.
  EXPECT_THAT(fast.err, StartsWith("onnxpool: error: 1 of 40 items failed, stopped after 5 of 40 items; first: item 1 "
                                   "(test_data_set_1) on worker cpu#0: "));
}

// SIGINT or SIGTERM in the middle of a run: the items in flight finish, every finished item's outputs
// are complete files, one line says how far it got and how to continue, and the exit status is 128 +
// the signal. Stacked files need every item: they stay under their .partial names for --resume (whose
// bytes the next test checks).
TEST_F(CliBadInput, ASignalStopsTheRunCleanly) {
  for (const auto& [signal, status] : {std::pair{"INT", 130}, std::pair{"TERM", 143}}) {
    for (const bool per_item : {true, false}) {
      const auto out = dir / fmt::format("out_{}_{}", signal, per_item);
      const auto err = dir / "err";
      // 2,000 MobileNetV2 items take about ten seconds here: the signal comes after two.
      const std::string script = std::string(ONNXPOOL_CLI) + " " + run_on("mobilenetv2.onnx") + " --random 2000 -q" +
                                 (per_item ? " --per-item" : "") + " --output " + q(out) + " 2>" + q(err) +
                                 " & pid=$!; sleep 2; kill -" + signal + " $pid; wait $pid";
      const int raw = std::system(("sh -c " + q(script)).c_str());
      ASSERT_TRUE(WIFEXITED(raw));
      EXPECT_EQ(WEXITSTATUS(raw), status) << signal;
      const std::string line = test::slurp(err);
      EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
      ASSERT_THAT(line, StartsWith("onnxpool: interrupted after ")) << line;
      EXPECT_THAT(line, EndsWith(" of 2000 items; rerun with --resume to continue\n"));
      const std::size_t done = std::stoul(line.substr(std::string("onnxpool: interrupted after ").size()));
      EXPECT_LT(done, 2000U);
      auto files = files_under(out);
      std::erase(files, std::string(".onnxpool-journal"));
      for (const auto& f : files) EXPECT_EQ(f.find(".tmp"), std::string::npos) << "a temporary left: " << f;
      if (per_item) {
        ASSERT_EQ(files.size(), done) << "one complete output per finished item";
        for (const auto& f : files) EXPECT_EQ(read_npy(out / f).shape(), (Shape{1, 1000})) << f;
      } else {
        EXPECT_EQ(files, (std::vector<std::string>{"output.npy.partial"})) << "no partial file under a final name";
      }
    }
  }
}

// A run that cannot write (here a file-size limit, as a full disk would) ends with one line saying the
// folder keeps what was done; nothing sits under a final name, and --resume, once there is room, gives
// the bytes of a run that never failed. The string outputs' spool grows with every item, so the limit
// is met in the middle of the run.
TEST_F(CliBadInput, AWriteFailureLeavesAResumableFolder) {
  std::vector<std::string> text;
  for (int i = 0; i < 20000; ++i) text.push_back(fmt::format("item {} of a run that meets a full disk", i));
  write_npy(dir / "text.npy", Tensor::from_strings({static_cast<std::int64_t>(text.size())}, text));
  const std::string run = run_on("strings.onnx") + " --data text=" + q(dir / "text.npy") + " -q --output ";
  ASSERT_EQ(run_cli(run + q(dir / "clean")).status, 0);
  // dash's ulimit -f counts 512-byte blocks: 100 KB. SIGXFSZ ignored: write() fails with EFBIG instead.
  const std::string limited = "sh -c " + q("ulimit -f 200; trap '' XFSZ; exec " + std::string(ONNXPOOL_CLI) + " " +
                                           run + q(dir / "out") + " 2>" + q(dir / "err"));
  const int raw = std::system(limited.c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 1);
  const std::string err = test::slurp(dir / "err");
  EXPECT_THAT(err, StartsWith("onnxpool: error: ")) << err;
  EXPECT_THAT(err, HasSubstr("File too large; the folder keeps what was done: rerun with --resume to continue\n"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  auto left = files_under(dir / "out");
  for (const auto& f : left) EXPECT_THAT(f, AnyOf(EndsWith(".partial"), Eq(".onnxpool-journal"))) << f;
  const auto resumed = run_cli(run + q(dir / "out") + " --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  for (const char* name : {"same.npy", "upper.npy"}) {
    EXPECT_EQ(read_file_bytes(dir / "out" / name), read_file_bytes(dir / "clean" / name)) << name;
  }
}

// Workers sharing weights write the optimised model to a scratch folder first: when that cannot be
// written (a full /tmp, here a file-size limit), the one line says where and how to choose another
// folder, and the scratch folder is gone.
TEST_F(CliBadInput, AScratchFolderThatCannotBeWrittenIsNamed) {
  const auto tmp = dir / "tmp";
  std::filesystem::create_directories(tmp);
  const std::string command =
      "sh -c " + q("ulimit -f 2000; trap '' XFSZ; TMPDIR=" + q(tmp) + " exec " + std::string(ONNXPOOL_CLI) + " " +
                   run_on("mobilenetv2.onnx") + " --random 4 --workers 2 -q 2>" + q(dir / "err"));
  const int raw = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 1);
  const std::string err = test::slurp(dir / "err");
  EXPECT_THAT(err, HasSubstr("preparing shared weights: ")) << err;
  EXPECT_THAT(err, HasSubstr("; the optimised model is written to '" + tmp.string() + "/onnxpool-")) << err;
  EXPECT_THAT(err, EndsWith("first (TMPDIR chooses the folder)\n")) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_TRUE(std::filesystem::is_empty(tmp)) << "the scratch folder is removed";
}

// bench writes its CSV, JSON and plot at the end, each complete or not at all: a signal while it
// makes its pools (the moment a pool's scratch folder holds the optimised model) or while it measures
// ends it with one line, its status, and nothing left: no output, no temporary, no scratch folder.
TEST_F(CliBadInput, ASignalEndsTheBenchLeavingNothing) {
  for (const auto& [when, signal, status] : {std::tuple{"scratch", "INT", 130}, std::tuple{"measuring", "TERM", 143}}) {
    const auto out = dir / fmt::format("bench_{}", when);
    const auto tmp = out / "tmp";
    std::filesystem::create_directories(tmp);
    // Waits (at most 20 s) for the pool's scratch folder, or 3 s into the measurements.
    const std::string wait =
        std::string(when) == "scratch"
            ? "i=0; while [ -z \"$(ls " + q(tmp) + ")\" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; "
            : "sleep 3; ";
    const std::string script = "TMPDIR=" + q(tmp) + " " + std::string(ONNXPOOL_CLI) + " bench " +
                               q(model_path("mobilenetv2.onnx")) + " --workers 2 -q --csv " + q(out / "b.csv") +
                               " --json " + q(out / "b.json") + " --plot " + q(out / "b") + " >/dev/null 2>" +
                               q(out / "err") + " & pid=$!; " + wait + "kill -" + signal + " $pid; wait $pid";
    const int raw = std::system(("sh -c " + q(script)).c_str());
    ASSERT_TRUE(WIFEXITED(raw));
    EXPECT_EQ(WEXITSTATUS(raw), status) << when;
    EXPECT_EQ(test::slurp(out / "err"), "onnxpool: bench interrupted; nothing written\n") << when;
    std::filesystem::remove(out / "err");
    EXPECT_EQ(files_under(out), std::vector<std::string>{}) << when << ": nothing left";
    EXPECT_TRUE(std::filesystem::is_empty(tmp)) << when << ": no scratch folder left";
  }
}

// kill -9 at random moments, each time continued with --resume: the final files are byte for byte
// those of a run never stopped, with the same failures. The moments are drawn anew each time (the seed
// is printed when it fails), so that over many CI runs every phase of a run is hit: reading, running,
// committing, renaming.
TEST_F(CliBadInput, RunsKilledAtRandomAndResumedGiveTheUninterruptedRunsBytes) {
  // 200,000 items of fails_sometimes from an array, every 997th out of range (fails): about two seconds.
  constexpr std::int64_t kItems = 200'000;
  Tensor idx(ElementType::Int64, {kItems});
  for (std::int64_t i = 0; i < kItems; ++i) idx.data<std::int64_t>()[i] = i % 997 == 5 ? 12 : i % 10;
  write_npy(dir / "idx.npy", idx);
  const std::string run = run_on("fails_sometimes.onnx") + " --data idx=" + q(dir / "idx.npy") + " -q --output ";
  const auto clean = run_cli(run + q(dir / "clean"));
  ASSERT_EQ(clean.status, 4) << clean.err;

  const auto seed = std::random_device{}();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(100, 1800);
  const auto out = dir / "killed";
  const auto again = [&] { return std::filesystem::exists(out / ".onnxpool-journal") ? " --resume" : " --overwrite"; };
  for (int attempt = 0; attempt < 4; ++attempt) {
    const int ms = delay_ms(random);
    const std::string script = std::string(ONNXPOOL_CLI) + " " + run + q(out) + again() +
                               " 2>/dev/null & pid=$!; sleep " + fmt::format("{}.{:03}", ms / 1000, ms % 1000) +
                               "; kill -9 $pid; wait $pid";
    static_cast<void>(std::system(("sh -c " + q(script) + " 2>/dev/null").c_str()));
  }
  const auto last = run_cli(run + q(out) + again());
  ASSERT_EQ(last.status, 4) << last.err;
  EXPECT_THAT(last.err,
              StartsWith("onnxpool: error: 201 of 200000 items failed (" + (out / "failures.jsonl").string()));
  test::expect_like_clean_run(out, dir / "clean", 201);
}

// --resume continues only the same run, and says why not in one line.
TEST_F(CliBadInput, ResumeRefusesWhatItCannotContinue) {
  const auto out = dir / "out";
  const auto none = run_cli(run_on("add_mul.onnx") + " --random 5 --resume --output " + q(out));
  EXPECT_EQ(none.status, 1);
  EXPECT_EQ(none.err, "onnxpool: error: --resume: " + (out / ".onnxpool-journal").string() +
                          ": no journal: there is no unfinished run to continue; --overwrite starts the run again\n");
  // An unfinished run (stopped by --fail-fast) in the folder.
  Tensor idx(ElementType::Int64, {40});
  for (std::int64_t i = 0; i < 40; ++i) idx.data<std::int64_t>()[i] = i == 3 ? 12 : 1;
  write_npy(dir / "idx.npy", idx);
  const std::string run = run_on("fails_sometimes.onnx") + " --data idx=" + q(dir / "idx.npy") + " --workers 1 -q";
  const auto stopped = run_cli(run + " --fail-fast --output " + q(out));
  EXPECT_EQ(stopped.status, 4);
  EXPECT_THAT(stopped.err, HasSubstr("stopped after "));
  EXPECT_THAT(stopped.err, HasSubstr(" (--resume continues); first: item 3 "));
  const auto fresh = run_cli(run + " --output " + q(out));
  EXPECT_EQ(fresh.err, "onnxpool: error: " + out.string() +
                           ": the output folder holds an unfinished run; --resume continues it, --overwrite starts "
                           "again\n");
  const auto other = run_cli(run + " --seed 5 --resume --output " + q(out));
  EXPECT_EQ(other.status, 1);
  EXPECT_THAT(other.err, HasSubstr(": the run there is another run: its seed was 0, this run's is 5; --overwrite "
                                   "starts the run again\n"));
  const auto resumed = run_cli(run + " --resume --output " + q(out));
  EXPECT_EQ(resumed.status, 4) << "item 3 failed, in the earlier run";
  EXPECT_THAT(resumed.err, StartsWith("onnxpool: error: 1 of 40 items failed ("));
  const Tensor y = read_npy(out / "y.npy");
  ASSERT_EQ(y.shape(), (Shape{40, 4}));
  for (std::size_t row = 0; row < 40; ++row) {
    EXPECT_EQ(y.data<float>()[row * 4], row == 3 ? 0.0F : 4.0F) << "row " << row;
  }
}

// --top-k K --labels FILE: the K best classes of each item in DIR/top_k.csv, failed items left out,
// labels quoted as CSV wants; made when the run is complete, so a resumed run has the same file.
TEST_F(CliBadInput, TopKRanksEachItemsScores) {
  // fails_sometimes: y = row idx of a table whose row r is [4r, 4r+1, 4r+2, 4r+3]; item 3 fails.
  Tensor idx(ElementType::Int64, {12});
  for (std::int64_t i = 0; i < 12; ++i) idx.data<std::int64_t>()[i] = i == 3 ? 12 : i % 10;
  write_npy(dir / "idx.npy", idx);
  {
    std::ofstream labels(dir / "labels.txt");
    labels << "zero\none\n\"two\", quoted\nthree\n";
  }
  const std::string run = run_on("fails_sometimes.onnx") + " --data idx=" + q(dir / "idx.npy") +
                          " --workers 1 -q --top-k 2 --labels " + q(dir / "labels.txt") + " --output ";
  const auto clean = run_cli(run + q(dir / "clean"));
  ASSERT_EQ(clean.status, 4) << clean.err;
  std::string expected = "item,rank,class,label,score\n";
  for (std::int64_t i = 0; i < 12; ++i) {
    if (i == 3) continue;
    const std::int64_t r = i % 10;
    expected += fmt::format("{},1,3,three,{}\n{},2,2,\"\"\"two\"\", quoted\",{}\n", i, 4 * r + 3, i, 4 * r + 2);
  }
  EXPECT_EQ(test::slurp(dir / "clean" / "top_k.csv"), expected);

  const auto stopped = run_cli(run + q(dir / "parts") + " --fail-fast");
  EXPECT_EQ(stopped.status, 4);
  EXPECT_FALSE(std::filesystem::exists(dir / "parts" / "top_k.csv")) << "no ranking of a run not complete";
  const auto resumed = run_cli(run + q(dir / "parts") + " --resume");
  EXPECT_EQ(resumed.status, 4) << resumed.err;
  EXPECT_EQ(test::slurp(dir / "parts" / "top_k.csv"), expected);

  const auto few = run_cli(run_on("mobilenetv2.onnx") + " -q --top-k 5 --labels " + q(dir / "labels.txt") +
                           " --output " + q(dir / "few"));
  EXPECT_EQ(few.status, 1);
  EXPECT_EQ(few.err, "onnxpool: error: --labels: 4 labels in " + (dir / "labels.txt").string() +
                         " for the 1000 classes of output 'output'\n");
}

// An output whose shape depends on the item (NonZero's count) cannot be stacked: run says so in a note
// and writes each item's outputs apart, as --per-item.
TEST_F(CliBadInput, OutputsWhoseShapeVariesGoPerItem) {
  const float values[] = {1, -1, 2, -2, 3, -3, /**/ -1, -1, -1, -1, -1, 5, /**/ 1, 1, 1, 1, 1, 1};
  Tensor x(ElementType::Float, {18});
  std::copy(std::begin(values), std::end(values), x.data<float>().begin());
  write_npy(dir / "x.npy", x);
  const auto r =
      run_cli(run_on("varies.onnx") + " --data x=" + q(dir / "x.npy") + " --dim n=6 -q --output " + q(dir / "out"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err,
            "onnxpool: note: output 'positive' may have another shape for each item: each item's outputs go to a "
            "folder of its own (as --per-item)\n");
  const std::vector<std::vector<std::int64_t>> expected{{0, 2, 4}, {5}, {0, 1, 2, 3, 4, 5}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Tensor got = read_npy(dir / "out" / fmt::format("item_{}", i) / "positive.npy");
    ASSERT_EQ(got.shape(), (Shape{1, static_cast<std::int64_t>(expected[i].size())})) << i;
    const auto data = got.data<std::int64_t>();
    EXPECT_EQ(std::vector<std::int64_t>(data.begin(), data.end()), expected[i]) << i;
  }
}

// String outputs stack as numpy's unicode arrays, row for row what --per-item writes for each item.
TEST_F(CliBadInput, StringOutputsStackAsNumpyUnicode) {
  const std::vector<std::string> text{"hello", "W\u00f6rld \u20ac", "", "x"};
  write_npy(dir / "text.npy", Tensor::from_strings({4}, text));
  const std::string run = run_on("strings.onnx") + " --data text=" + q(dir / "text.npy") + " -q --output ";
  const auto stacked = run_cli(run + q(dir / "stacked"));
  ASSERT_EQ(stacked.status, 0) << stacked.err;
  EXPECT_EQ(stacked.err, "") << "no note: strings stack";
  ASSERT_EQ(run_cli(run + q(dir / "apart") + " --per-item").status, 0);
  const Tensor same = read_npy(dir / "stacked" / "same.npy");
  EXPECT_EQ(same.strings(), text);
  const Tensor upper = read_npy(dir / "stacked" / "upper.npy");
  ASSERT_EQ(upper.shape(), (Shape{4}));
  EXPECT_EQ(upper.strings()[0], "HELLO");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto item = dir / "apart" / fmt::format("item_{}", i);
    EXPECT_EQ(read_npy(item / "upper.npy").strings(), std::vector<std::string>{upper.strings()[i]}) << i;
    EXPECT_EQ(read_npy(item / "same.npy").strings(), std::vector<std::string>{text[i]}) << i;
  }
}

// An output folder that holds files is refused before any work, unless --overwrite.
TEST_F(CliBadInput, AFolderHoldingFilesIsRefusedUnlessOverwrite) {
  const auto out = dir / "out";
  ASSERT_EQ(run_cli(run_on("add_mul.onnx") + " --random 2 -q --output " + q(out)).status, 0);
  const Tensor first = read_npy(out / "sum.npy");
  const auto refused = run_cli(run_on("add_mul.onnx") + " --random 2 --seed 9 --output " + q(out));
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.err, StartsWith("onnxpool: error: " + out.string() + ": the output folder is not empty ("));
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_TRUE(read_npy(out / "sum.npy") == first) << "nothing written";
  const auto r = run_cli(run_on("add_mul.onnx") + " --random 2 --seed 9 -q --overwrite --output " + q(out));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(read_npy(out / "sum.npy") == first) << "the new run's outputs";
}

// A clean run writes no failure log.
TEST_F(CliBadInput, ACleanRunWritesNoFailureLog) {
  const auto out = dir / "out";
  const auto r = run_cli(run_on("add_mul.onnx") + " --random 3 --output " + q(out));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(files_under(out), (std::vector<std::string>{"prod.npy", "sum.npy"}));
  EXPECT_THAT(r.out, HasSubstr("  time: reading "));
  // --json: the summary, its worker counts adding up to the items.
  const auto json = dir / "run.json";
  const auto j = run_cli(run_on("add_mul.onnx") + " --random 5 --workers 2 -q --json " + q(json));
  ASSERT_EQ(j.status, 0) << j.err;
  EXPECT_EQ(j.out, "") << "--quiet";
  const auto summary = nlohmann::json::parse(test::slurp(json));
  EXPECT_EQ(summary["items"], 5);
  EXPECT_EQ(summary["done"], 5);
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_EQ(summary["interrupted"], false);
  EXPECT_TRUE(summary["time"].contains("reading") && summary["time"].contains("waiting") &&
              summary["time"].contains("writing"));
  ASSERT_EQ(summary["workers"].size(), 2U);
  EXPECT_EQ(summary["workers"][0]["items"].get<int>() + summary["workers"][1]["items"].get<int>(), 5);
}

}  // namespace
}  // namespace onnxpool
