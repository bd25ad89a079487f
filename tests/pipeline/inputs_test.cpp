// Inputs: dim binding, random tensors, checks against the model, test-data folders.
#include "onnxpool/pipeline/inputs.hpp"

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
using ::testing::Not;

ValueInfo input(std::vector<Dim> shape) {
  return ValueInfo{"x", ElementType::Float, std::move(shape), std::nullopt};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ResolveShape, BatchLikeDimsDefaultToOne) {
  DimBindings none;
  EXPECT_EQ(resolve_shape(input({{-1, "batch_size"}, {3, ""}}), none), (Shape{1, 3}));
  EXPECT_EQ(resolve_shape(input({{-1, "N"}, {3, ""}}), none), (Shape{1, 3}));
  EXPECT_EQ(resolve_shape(input({{-1, ""}, {3, ""}}), none), (Shape{1, 3}));  // unnamed first dim
}

TEST(ResolveShape, BoundByNameAndByWholeShape) {
  DimBindings bindings;
  bindings.bind_dim("batch_size=8");
  bindings.bind_dim("height=5");
  EXPECT_EQ(resolve_shape(input({{-1, "batch_size"}, {-1, "height"}, {-1, "height"}}), bindings), (Shape{8, 5, 5}));
  bindings.bind_shape("x:2,7");
  EXPECT_EQ(resolve_shape(input({{-1, "batch_size"}, {-1, "height"}}), bindings), (Shape{2, 7}));
}

TEST(ResolveShape, UnboundDimIsAnErrorNamingInputAndDim) {
  DimBindings none;
  const auto message = error_of([&] { resolve_shape(input({{1, ""}, {-1, "height"}}), none); });
  EXPECT_THAT(message, HasSubstr("input 'x'"));
  EXPECT_THAT(message, HasSubstr("'height'"));
  EXPECT_THAT(message, Not(HasSubstr("--"))) << "the library names no CLI flag";
  try {
    resolve_shape(input({{1, ""}, {-1, "height"}}), none);
    FAIL() << "no error";
  } catch (const UnboundDimError& e) {
    EXPECT_EQ(e.input(), "x");
    EXPECT_EQ(e.dim(), "height");
    EXPECT_EQ(e.position(), 1U);
  }
  EXPECT_THAT(error_of([&] { resolve_shape(input({{1, ""}, {-1, ""}}), none); }), HasSubstr("dim 1 has no name"));
}

TEST(ResolveShape, WholeShapeMustFitRankAndFixedDims) {
  DimBindings bindings;
  bindings.bind_shape("x:1,2,3");
  EXPECT_THAT(error_of([&] { resolve_shape(input({{-1, "b"}, {3, ""}}), bindings); }), HasSubstr("rank 3"));
  DimBindings conflict;
  conflict.bind_shape("x:1,4");
  EXPECT_THAT(error_of([&] { resolve_shape(input({{-1, "b"}, {3, ""}}), conflict); }), HasSubstr("fixes it at 3"));
}

TEST(DimBindings, BadFormsAreErrors) {
  DimBindings b;
  EXPECT_THAT(error_of([&] { b.bind_dim("batch"); }), HasSubstr("NAME=VALUE"));
  EXPECT_THAT(error_of([&] { b.bind_dim("batch=-1"); }), HasSubstr("'-1'"));
  EXPECT_THAT(error_of([&] { b.bind_dim("batch=x"); }), HasSubstr("'x'"));
  EXPECT_THAT(error_of([&] { b.bind_shape("x"); }), HasSubstr("INPUT:D0"));
  EXPECT_THAT(error_of([&] { b.bind_shape("x:1,,2"); }), HasSubstr("not a dimension"));
}

TEST(DimBindings, ErrorsAreOneLineWhateverTheText) {
  // Found by tests/fuzz/grammars_fuzz.cpp (corpus/grammars/regress-shape-newline): the text was quoted as
  // given, newline and all.
  DimBindings b;
  EXPECT_EQ(error_of([&] { b.bind_shape("y\n"); }), "'y ': expected INPUT:D0,D1,..., e.g. x:1,3,640,640");
  EXPECT_EQ(error_of([&] { b.bind_dim("n=\r"); }), "'n= ': ' ' is not a dimension (a whole number >= 0)");
  EXPECT_EQ(error_of([&] { static_cast<void>(InputFile::parse("x\n")); }),
            "'x ': expected NAME=FILE (a .npy or .pb file)");
}

class InputsTest : public ::testing::Test {
 protected:
  Runtime runtime;
};

TEST_F(InputsTest, RandomInputsAreSeededAndShapedPerModel) {
  const ModelInfo model = inspect_model(runtime, model_path("mobilenetv2.onnx"));
  DimBindings bindings;
  bindings.bind_dim("batch_size=2");
  const auto a = random_inputs(model, bindings, 7);
  const auto b = random_inputs(model, bindings, 7);
  const auto c = random_inputs(model, bindings, 8);
  ASSERT_EQ(a.size(), 1U);
  EXPECT_EQ(a[0].name, "input");
  EXPECT_EQ(a[0].tensor.shape(), (Shape{2, 3, 224, 224}));
  EXPECT_TRUE(a[0].tensor == b[0].tensor);
  EXPECT_FALSE(a[0].tensor == c[0].tensor);
  for (float v : a[0].tensor.data<float>()) {
    ASSERT_GE(v, 0.0F);
    ASSERT_LT(v, 1.0F);
  }
}

TEST_F(InputsTest, TokenIdsStayInsideTheVocabulary) {
  const ModelInfo model = inspect_model(runtime, model_path("gpt2_tiny.onnx"));
  DimBindings bindings;
  bindings.bind_dim("seq=64");
  const auto inputs = random_inputs(model, bindings, 1);
  const auto ids = inputs[0].tensor.data<std::int64_t>();
  ASSERT_EQ(ids.size(), 64U);
  const auto limit = *model.input("input_ids").index_limit;
  std::int64_t largest = 0;
  for (auto id : ids) {
    ASSERT_GE(id, 0);
    ASSERT_LT(id, limit);
    largest = std::max(largest, id);
  }
  EXPECT_GT(largest, 100) << "ids should spread over the vocabulary, not the default 0..99";
}

TEST_F(InputsTest, EveryElementTypeGetsRandomValues) {
  const ModelInfo model = inspect_model(runtime, model_path("types.onnx"));
  DimBindings bindings;
  bindings.bind_dim("n=5");
  const auto inputs = random_inputs(model, bindings, 3);
  ASSERT_EQ(inputs.size(), model.inputs.size());
  check_inputs(model, inputs);  // every type and shape as declared
  for (const auto& named : inputs) {
    if (named.name == "flag") {
      for (auto v : named.tensor.data<std::uint8_t>()) ASSERT_LE(v, 1);
    }
  }
}

TEST_F(InputsTest, CheckInputsNamesTheProblem) {
  const ModelInfo model = inspect_model(runtime, model_path("add_mul.onnx"));
  const auto make = [](const std::string& name, ElementType type, Shape shape) {
    return NamedTensor{name, Tensor(type, std::move(shape))};
  };
  TensorSet good;
  good.push_back(make("a", ElementType::Float, {2, 4}));
  good.push_back(make("b", ElementType::Float, {2, 4}));
  EXPECT_NO_THROW(check_inputs(model, good));

  TensorSet wrong_type;
  wrong_type.push_back(make("a", ElementType::Int64, {2, 4}));
  wrong_type.push_back(make("b", ElementType::Float, {2, 4}));
  EXPECT_THAT(error_of([&] { check_inputs(model, wrong_type); }), HasSubstr("input 'a': element type int64"));

  TensorSet wrong_rank;
  wrong_rank.push_back(make("a", ElementType::Float, {8}));
  wrong_rank.push_back(make("b", ElementType::Float, {2, 4}));
  EXPECT_THAT(error_of([&] { check_inputs(model, wrong_rank); }), HasSubstr("rank 1"));

  TensorSet wrong_dim;
  wrong_dim.push_back(make("a", ElementType::Float, {2, 5}));
  wrong_dim.push_back(make("b", ElementType::Float, {2, 4}));
  EXPECT_THAT(error_of([&] { check_inputs(model, wrong_dim); }), HasSubstr("dim 1 must be 4"));

  TensorSet inconsistent;
  inconsistent.push_back(make("a", ElementType::Float, {2, 4}));
  inconsistent.push_back(make("b", ElementType::Float, {3, 4}));
  EXPECT_THAT(error_of([&] { check_inputs(model, inconsistent); }), HasSubstr("'batch_size'"));

  TensorSet missing;
  missing.push_back(make("a", ElementType::Float, {2, 4}));
  EXPECT_THAT(error_of([&] { check_inputs(model, missing); }), HasSubstr("input 'b'"));

  TensorSet unknown = TensorSet{};
  unknown.push_back(make("c", ElementType::Float, {2, 4}));
  EXPECT_THAT(error_of([&] { check_inputs(model, unknown); }), HasSubstr("no input 'c'"));
}

TEST_F(InputsTest, TestDataFoldersInPbAndNpyAgree) {
  const ModelInfo model = inspect_model(runtime, model_path("add_mul.onnx"));
  const auto pb = load_data_sets(model, model_path("add_mul/test_data_set_0"));
  const auto npy = load_data_sets(model, model_path("add_mul/test_data_set_0_npy"));
  ASSERT_EQ(pb.size(), 1U);
  ASSERT_EQ(npy.size(), 1U);
  ASSERT_EQ(pb[0].inputs.size(), 2U);
  ASSERT_EQ(pb[0].expected.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(pb[0].inputs[i].name, model.inputs[i].name);
    EXPECT_TRUE(pb[0].inputs[i].tensor == npy[0].inputs[i].tensor);
  }
  // The expected outputs are a+b and a*b of the inputs.
  const auto a = pb[0].inputs[0].tensor.data<float>();
  const auto b = pb[0].inputs[1].tensor.data<float>();
  const auto sum = pb[0].expected[0].tensor.data<float>();
  ASSERT_EQ(pb[0].expected[0].name, "sum");
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(sum[i], a[i] + b[i]);
}

TEST_F(InputsTest, AFolderOfDataSetsGivesOneItemEachInNumberOrder) {
  const ModelInfo model = inspect_model(runtime, model_path("add_mul.onnx"));
  test::TempDir dir;
  const auto source = load_data_sets(model, model_path("add_mul/test_data_set_0"));
  // Number order, not text order: 2 before 10; a number of any length (no overflow), leading zeros
  // not counted (007 is 7).
  const std::vector<std::string> numbers{"99999999999999999999999", "10", "2", "007"};
  for (std::size_t k = 0; k < numbers.size(); ++k) {
    const auto folder = dir / ("test_data_set_" + numbers[k]);
    std::filesystem::create_directories(folder);
    NamedTensor a = source[0].inputs[0];
    a.tensor.data<float>()[0] = static_cast<float>(k);
    write_tensor_pb(folder / "input_0.pb", a);
    write_tensor_pb(folder / "input_1.pb", source[0].inputs[1]);
  }
  const auto sets = load_data_sets(model, dir.path());
  ASSERT_EQ(sets.size(), 4U);
  EXPECT_EQ(sets[0].name, "test_data_set_2");
  EXPECT_EQ(sets[1].name, "test_data_set_007");
  EXPECT_EQ(sets[2].name, "test_data_set_10");
  EXPECT_EQ(sets[3].name, "test_data_set_99999999999999999999999");
  EXPECT_EQ(sets[0].inputs[0].tensor.data<float>()[0], 2.0F);
  EXPECT_EQ(sets[2].inputs[0].tensor.data<float>()[0], 1.0F);
  EXPECT_TRUE(sets[0].expected.empty());
}

TEST_F(InputsTest, AFileNumberTooLongForALongIsAnErrorNotAnOutOfRange) {
  // input_99999999999999999999.pb: sorting by number used std::stol, whose std::out_of_range escaped
  // load_data_sets instead of an Error (found reading the loaders for the fuzzing of user-given names).
  const ModelInfo model = inspect_model(runtime, model_path("add_mul.onnx"));
  test::TempDir dir;
  const auto source = load_data_sets(model, model_path("add_mul/test_data_set_0"));
  write_tensor_pb(dir / "input_0.pb", source[0].inputs[0]);
  write_tensor_pb(dir / "input_1.pb", source[0].inputs[1]);
  write_tensor_pb(dir / "input_99999999999999999999.pb", source[0].inputs[1]);
  EXPECT_THAT(error_of([&] { static_cast<void>(load_data_sets(model, dir.path())); }),
              HasSubstr("3 input files for a model with 2 inputs"));
  std::filesystem::remove(dir / "input_99999999999999999999.pb");
  write_tensor_pb(dir / "input_0000000000000000000000001.pb", source[0].inputs[1]);
  EXPECT_THAT(error_of([&] { static_cast<void>(load_data_sets(model, dir.path())); }), HasSubstr("3 input files"));
}

TEST_F(InputsTest, FileInputsAreCheckedAndNamed) {
  const ModelInfo model = inspect_model(runtime, model_path("add_mul.onnx"));
  test::TempDir dir;
  write_npy(dir / "int.npy", Tensor(ElementType::Int64, {1, 4}));
  write_npy(dir / "good.npy", Tensor(ElementType::Float, {3, 4}));
  const auto from = [&](const std::string& spec) {
    return inputs_from_files(model, {InputFile::parse(spec)}, DimBindings{}, 0);
  };
  EXPECT_THAT(error_of([&] { from("a=" + (dir / "int.npy").string()); }),
              HasSubstr("int.npy: input 'a': element type int64"));
  EXPECT_THAT(error_of([&] { from("zz=" + (dir / "good.npy").string()); }), HasSubstr("no input 'zz'"));
  EXPECT_THAT(error_of([&] { InputFile::parse("a"); }), HasSubstr("NAME=FILE"));
  // The file fixes batch_size=3 for a; the random b must agree, so b needs the binding too.
  EXPECT_THAT(error_of([&] { from("a=" + (dir / "good.npy").string()); }), HasSubstr("batch_size"));
  DimBindings bindings;
  bindings.bind_dim("batch_size=3");
  const auto inputs = inputs_from_files(model, {InputFile::parse("a=" + (dir / "good.npy").string())}, bindings, 0);
  EXPECT_EQ(inputs[1].tensor.shape(), (Shape{3, 4}));
}

}  // namespace
}  // namespace onnxpool
