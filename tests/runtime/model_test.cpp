// ModelInfo: inputs/outputs with symbolic dims as ONNX Runtime reports them, opsets, metadata, and one
// clear error for each kind of bad model file.
#include "onnxpool/runtime/model.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/model_paths.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using ::testing::HasSubstr;

Dim sym(const std::string& name) {
  return Dim{-1, name};
}
Dim fixed(std::int64_t value) {
  return Dim{value, ""};
}

class ModelTest : public ::testing::Test {
 protected:
  Runtime runtime;
};

TEST_F(ModelTest, SeveralSymbolicDimsKeepTheirNames) {
  const ModelInfo model = inspect_model(runtime, model_path("symbolic.onnx"));
  ASSERT_EQ(model.inputs.size(), 1U);
  EXPECT_EQ(model.inputs[0].name, "x");
  EXPECT_EQ(model.inputs[0].type, ElementType::Float);
  EXPECT_EQ(model.inputs[0].shape, (std::vector<Dim>{sym("batch"), sym("channels"), sym("height"), fixed(16)}));
  EXPECT_EQ(model.inputs[0].shape_string(), "[batch,channels,height,16]");
  ASSERT_EQ(model.outputs.size(), 2U);
  EXPECT_EQ(model.outputs[1].name, "z");
  EXPECT_EQ(model.outputs[1].shape_string(), "[batch,channels]");
}

TEST_F(ModelTest, MobileNetV2Interface) {
  const ModelInfo model = inspect_model(runtime, model_path("mobilenetv2.onnx"));
  ASSERT_EQ(model.inputs.size(), 1U);
  EXPECT_EQ(model.inputs[0].name, "input");
  EXPECT_EQ(model.inputs[0].shape_string(), "[batch_size,3,224,224]");
  EXPECT_EQ(model.outputs[0].name, "output");
  EXPECT_EQ(model.outputs[0].shape_string(), "[batch_size,1000]");
  ASSERT_EQ(model.opsets.size(), 1U);
  EXPECT_EQ(model.opsets[0].domain, "");
  EXPECT_EQ(model.opsets[0].version, 17);
  EXPECT_EQ(model.ir_version, 8);
  EXPECT_TRUE(model.batchable());
  EXPECT_FALSE(model.inputs[0].index_limit.has_value());
}

TEST_F(ModelTest, TokenIdsGetTheVocabularyAsTheirLimit) {
  const ModelInfo model = inspect_model(runtime, model_path("gpt2_tiny.onnx"));
  const ValueInfo& ids = model.input("input_ids");
  EXPECT_EQ(ids.type, ElementType::Int64);
  EXPECT_EQ(ids.shape_string(), "[batch,seq]");
  ASSERT_TRUE(ids.index_limit.has_value());
  EXPECT_EQ(std::to_string(*ids.index_limit), model.metadata.at("vocab_size"));
}

TEST_F(ModelTest, ElementTypesAndRankZero) {
  const ModelInfo model = inspect_model(runtime, model_path("types.onnx"));
  EXPECT_EQ(model.input("f16").type, ElementType::Float16);
  EXPECT_EQ(model.input("i64").type, ElementType::Int64);
  EXPECT_EQ(model.input("i64").shape_string(), "[n]");
  EXPECT_EQ(model.input("flag").type, ElementType::Bool);
  EXPECT_EQ(model.input("u8").type, ElementType::UInt8);
  EXPECT_TRUE(model.input("scalar").shape.empty());
  EXPECT_FALSE(model.batchable());
}

TEST_F(ModelTest, BatchlessModelIsNotBatchable) {
  EXPECT_FALSE(inspect_model(runtime, model_path("batchless.onnx")).batchable());
  EXPECT_TRUE(inspect_model(runtime, model_path("add_mul.onnx")).batchable());
}

// The rule behind ModelInfo::batchable and Worker::stackable, over value lists.
TEST(Batchable, EveryValueNeedsASymbolicFirstDim) {
  const auto dim = [](std::int64_t value, std::string symbol = {}) {
    Dim d;
    d.value = value;
    d.symbol = std::move(symbol);
    return d;
  };
  const auto value = [](std::vector<Dim> shape) {
    ValueInfo v;
    v.name = "v";
    v.shape = std::move(shape);
    return v;
  };
  const ValueInfo batch = value({dim(-1, "batch"), dim(3)});
  const ValueInfo unnamed = value({dim(-1)});
  const ValueInfo fixed = value({dim(1), dim(-1)});
  const ValueInfo scalar = value({});
  EXPECT_TRUE(batchable({batch, unnamed}, {batch}));
  EXPECT_TRUE(batchable({batch}, {})) << "outputs without a dim to check do not stop it";
  EXPECT_FALSE(batchable({}, {batch})) << "no input: nothing to stack";
  EXPECT_FALSE(batchable({batch, fixed}, {batch}));
  EXPECT_FALSE(batchable({batch}, {batch, scalar}));
}

TEST_F(ModelTest, UnknownInputNameListsTheRealOnes) {
  const ModelInfo model = inspect_model(runtime, model_path("add_mul.onnx"));
  try {
    static_cast<void>(model.input("c"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no input 'c'"));
    EXPECT_THAT(e.what(), HasSubstr("a, b"));
  }
}

void expect_error(Runtime& runtime, const std::filesystem::path& path, const std::string& part) {
  try {
    static_cast<void>(inspect_model(runtime, path));
    FAIL() << "no error for " << path;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string()));
    EXPECT_THAT(e.what(), HasSubstr(part));
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
  }
}

TEST_F(ModelTest, BadModelFilesGiveOneClearLine) {
  test::TempDir dir;
  expect_error(runtime, dir / "missing.onnx", "not found");
  write_file_atomically(dir / "empty.onnx", {});
  expect_error(runtime, dir / "empty.onnx", "empty");
  const std::string text = "this is not a model\n";
  write_file_atomically(dir / "text.onnx", std::as_bytes(std::span(text)));
  expect_error(runtime, dir / "text.onnx", "");
  const auto bytes = read_file_bytes(model_path("mobilenetv2.onnx"));
  write_file_atomically(dir / "truncated.onnx", std::span(bytes).first(bytes.size() / 2));
  expect_error(runtime, dir / "truncated.onnx", "");
  expect_error(runtime, dir.path(), "not a regular file");
}

}  // namespace
}  // namespace onnxpool
