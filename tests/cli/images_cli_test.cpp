// `onnxpool run --images` end to end: a corrupt image among good ones costs only itself, and each
// refusal (no images, images mixed with other sources, a model without an image input) is one line
// before any work.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/image_fixtures.hpp"
#include "support/model_paths.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using test::q;

class ImagesCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string lacks = test::python_lacks("numpy, PIL"); !lacks.empty()) GTEST_SKIP() << lacks;
    const auto made = test::run_python(fixtures, test::kImageFixturesScript);
    ASSERT_EQ(made.status, 0) << made.output;
    // Two folders: the good images, and the same with a truncated JPEG among them (third by name).
    for (const auto* folder : {"clean", "dirty"}) std::filesystem::create_directory(work / folder);
    const std::vector<std::pair<std::string, std::string>> good{
        {"rgb.jpg", "a.jpg"}, {"orient6.jpg", "b.jpg"}, {"palette.png", "d.png"}, {"grey16.png", "e.PNG"}};
    for (const auto& [from, to] : good) {
      std::filesystem::copy_file(fixtures / from, work / "clean" / to);
      std::filesystem::copy_file(fixtures / from, work / "dirty" / to);
    }
    std::filesystem::copy_file(fixtures / "truncated.jpg", work / "dirty" / "c.jpg");
  }
  test::TempDir fixtures;
  test::TempDir work;
};

TEST_F(ImagesCli, ACorruptImageFailsAloneAndTheOthersEqualACleanRun) {
  const auto model = q(model_path("image_identity.onnx"));
  const auto clean = run_cli("run " + model + " --images " + q(work / "clean") + " -q -o " + q(work / "out_clean"));
  ASSERT_EQ(clean.status, 0) << clean.err;
  const auto dirty = run_cli("run " + model + " --images " + q(work / "dirty") + " -q -o " + q(work / "out_dirty"));
  EXPECT_EQ(dirty.status, 4) << dirty.err;
  EXPECT_THAT(dirty.err, StartsWith("onnxpool: error: 1 of 5 items failed"));
  EXPECT_THAT(dirty.err, HasSubstr("first: item 2 (c.jpg): " + (work / "dirty" / "c.jpg").string() +
                                   ": a corrupt JPEG: Premature end"));

  const Tensor good = read_npy(work / "out_clean" / "pixels.npy");
  const Tensor mixed = read_npy(work / "out_dirty" / "pixels.npy");
  ASSERT_EQ(good.shape(), (Shape{4, 3, 224, 224}));
  ASSERT_EQ(mixed.shape(), (Shape{5, 3, 224, 224}));
  const std::size_t row = 3 * 224 * 224 * sizeof(float);
  const auto rows_equal = [&](std::size_t dirty_row, std::size_t clean_row) {
    return std::equal(mixed.bytes().begin() + static_cast<std::ptrdiff_t>(dirty_row * row),
                      mixed.bytes().begin() + static_cast<std::ptrdiff_t>((dirty_row + 1) * row),
                      good.bytes().begin() + static_cast<std::ptrdiff_t>(clean_row * row));
  };
  EXPECT_TRUE(rows_equal(0, 0));
  EXPECT_TRUE(rows_equal(1, 1));
  EXPECT_TRUE(rows_equal(3, 2));
  EXPECT_TRUE(rows_equal(4, 3));
  // The failed item's rows are zeros.
  const auto failed = mixed.bytes().subspan(2 * row, row);
  EXPECT_TRUE(std::all_of(failed.begin(), failed.end(), [](std::byte b) { return b == std::byte{0}; }));

  std::ifstream log(work / "out_dirty" / "failures.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(log, line));
  const auto entry = nlohmann::json::parse(line);
  EXPECT_EQ(entry["index"], 2);
  EXPECT_EQ(entry["name"], "c.jpg");
  EXPECT_THAT(entry["cause"].get<std::string>(), HasSubstr("c.jpg: a corrupt JPEG"));
  EXPECT_FALSE(std::getline(log, line));
}

TEST_F(ImagesCli, AListOfImageFilesIsRunAsImages) {
  {
    std::ofstream list(work / "images.txt");
    list << "clean/b.jpg\n# a comment\nclean/a.jpg\n";
  }
  const auto model = q(model_path("image_identity.onnx"));
  const auto r = run_cli("run " + model + " --list " + q(work / "images.txt") + " -q -o " + q(work / "out"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto direct = run_cli("run " + model + " --images " + q(work / "clean" / "b.jpg") + " " +
                              q(work / "clean" / "a.jpg") + " -q -o " + q(work / "out_direct"));
  ASSERT_EQ(direct.status, 0) << direct.err;
  const Tensor listed = read_npy(work / "out" / "pixels.npy");
  const Tensor given = read_npy(work / "out_direct" / "pixels.npy");
  ASSERT_EQ(listed.shape(), (Shape{2, 3, 224, 224}));
  EXPECT_TRUE(std::equal(listed.bytes().begin(), listed.bytes().end(), given.bytes().begin()));
}

TEST_F(ImagesCli, BenchTakesImagesToo) {
  const auto r = run_cli("bench " + q(model_path("image_identity.onnx")) + " --images " + q(work / "clean") +
                         " --strategies sequence,pool --max-n 2 -w 2");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("pool"));
}

TEST_F(ImagesCli, RefusalsAreOneLineBeforeAnyWork) {
  std::filesystem::create_directory(work / "empty");
  const auto image_model = q(model_path("image_identity.onnx"));
  const std::vector<std::pair<std::string, std::string>> cases{
      {"run " + image_model + " --images " + q(work / "empty"), "--images: no images (.jpg, .jpeg, .png) in"},
      {"run " + image_model + " --images " + q(work / "clean") + " --random 2", "cannot be combined"},
      {"run " + image_model + " --images " + q(work / "clean") + " --data x=y.npy", "cannot be combined"},
      {"run " + q(model_path("add_mul.onnx")) + " --images " + q(work / "clean"),
       "none of the model's inputs ('a' float32 [batch_size,4], 'b' float32 [batch_size,4]) can take an image"},
      {"run " + image_model + " --random 2 --bgr", "apply to images"},
      {"run " + image_model + " --images " + q(work / "clean") + " --mean 1,2", "--mean '1,2': expected three numbers"},
  };
  for (const auto& [args, why] : cases) {
    SCOPED_TRACE(args);
    const auto r = run_cli(args + " -o " + q(work / "never"));
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.err, StartsWith("onnxpool: error: "));
    EXPECT_THAT(r.err, HasSubstr(why));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    EXPECT_FALSE(std::filesystem::exists(work / "never"));
  }
}

}  // namespace
}  // namespace onnxpool
