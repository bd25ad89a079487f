// ONNX TensorProto files (src/tensor_pb.cpp): round trips, the typed fields, files made by python onnx,
// and hostile inputs that must throw Error, never crash.
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "onnxpool/tensor/tensor_io.hpp"
#include "support/python_fixture.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using test::run_python;
using test::TempDir;
using ::testing::HasSubstr;

const std::vector<ElementType> kNumericTypes{
    ElementType::Float,  ElementType::UInt8,  ElementType::Int8,     ElementType::UInt16,  ElementType::Int16,
    ElementType::Int32,  ElementType::Int64,  ElementType::Bool,     ElementType::Float16, ElementType::Double,
    ElementType::UInt32, ElementType::UInt64, ElementType::BFloat16,
};

std::vector<std::byte> serialize(const onnx::TensorProto& proto) {
  const std::string s = proto.SerializeAsString();
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

std::string error_of(std::span<const std::byte> bytes, const std::string& source = "input_0.pb") {
  try {
    (void)parse_tensor_pb(bytes, source);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string error_of(const onnx::TensorProto& proto) {
  return error_of(serialize(proto));
}

// Bytes 1, 2, 3... (bool: alternating 0/1), so every element differs and byte order shows.
Tensor patterned(ElementType type, Shape shape) {
  Tensor t(type, std::move(shape));
  auto bytes = t.bytes();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = type == ElementType::Bool ? std::byte(i % 2) : static_cast<std::byte>((i * 37 + 1) & 0xFF);
  }
  return t;
}

onnx::TensorProto float_proto(std::vector<std::int64_t> dims) {
  onnx::TensorProto proto;
  proto.set_name("x");
  proto.set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) proto.add_dims(d);
  return proto;
}

template <class T>
std::vector<T> values_of(const Tensor& t) {
  const auto span = t.data<T>();
  return {span.begin(), span.end()};
}

// --- round trips -----------------------------------------------------------------------------------

TEST(TensorPb, RoundTripEveryTypeAndRank) {
  const std::vector<Shape> shapes{{}, {5}, {2, 3, 4, 5}, {0}, {3, 0}};
  for (ElementType type : kNumericTypes) {
    for (const Shape& shape : shapes) {
      SCOPED_TRACE(fmt::format("{} {}", element_type_name(type), shape_to_string(shape)));
      const NamedTensor original{"input:0", patterned(type, shape)};
      const NamedTensor back = parse_tensor_pb(encode_tensor_pb(original), "mem.pb");
      EXPECT_EQ(back.name, "input:0");
      EXPECT_TRUE(back.tensor == original.tensor);
    }
  }
}

TEST(TensorPb, RoundTripStrings) {
  const NamedTensor original{"words",
                             Tensor::from_strings({2, 2}, {"", "a", std::string("nul\0inside", 10), "\xff\xfe"})};
  const NamedTensor back = parse_tensor_pb(encode_tensor_pb(original), "s.pb");
  EXPECT_EQ(back.name, "words");
  EXPECT_TRUE(back.tensor == original.tensor);
  EXPECT_EQ(back.tensor.strings()[2].size(), 10U);
}

TEST(TensorPb, EncodesRawDataAndStringData) {
  onnx::TensorProto proto;
  const auto numeric = encode_tensor_pb({"n", patterned(ElementType::Int16, {2, 3})});
  ASSERT_TRUE(proto.ParseFromArray(numeric.data(), static_cast<int>(numeric.size())));
  EXPECT_EQ(proto.name(), "n");
  EXPECT_EQ(proto.data_type(), onnx::TensorProto::INT16);
  EXPECT_EQ(proto.dims_size(), 2);
  EXPECT_EQ(proto.dims(1), 3);
  EXPECT_TRUE(proto.has_raw_data());
  EXPECT_EQ(proto.raw_data().size(), 12U);
  EXPECT_EQ(proto.int32_data_size(), 0);

  const auto strings = encode_tensor_pb({"s", Tensor::from_strings({2}, {"ab", "c"})});
  ASSERT_TRUE(proto.ParseFromArray(strings.data(), static_cast<int>(strings.size())));
  EXPECT_EQ(proto.data_type(), onnx::TensorProto::STRING);
  EXPECT_FALSE(proto.has_raw_data());
  ASSERT_EQ(proto.string_data_size(), 2);
  EXPECT_EQ(proto.string_data(0), "ab");
  EXPECT_THROW((void)encode_tensor_pb({"u", Tensor()}), Error);
}

TEST(TensorPb, FilesAndReadTensorFile) {
  TempDir dir;
  const NamedTensor original{"data", patterned(ElementType::Float, {1, 3, 2, 2})};
  write_tensor_pb(dir / "input_0.pb", original);
  const NamedTensor back = read_tensor_pb(dir / "input_0.pb");
  EXPECT_EQ(back.name, "data");
  EXPECT_TRUE(back.tensor == original.tensor);
  EXPECT_EQ(read_tensor_file(dir / "input_0.pb").name, "data");  // the proto's name, not the stem
  write_tensor_pb(dir / "output_3.pb", {"", original.tensor});
  EXPECT_EQ(read_tensor_file(dir / "output_3.pb").name, "output_3");  // no name: the stem
  try {
    (void)read_tensor_pb(dir / "missing.pb");
    FAIL() << "no Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.pb': No such file or directory"));
  }
}

// --- typed fields ----------------------------------------------------------------------------------

TEST(TensorPbTyped, FloatDoubleInt64Int32Uint64) {
  onnx::TensorProto f = float_proto({3});
  for (float v : {1.5F, -2.0F, 1e-30F}) f.add_float_data(v);
  EXPECT_EQ(values_of<float>(parse_tensor_pb(serialize(f), "f").tensor), (std::vector<float>{1.5F, -2.0F, 1e-30F}));

  onnx::TensorProto d;
  d.set_data_type(onnx::TensorProto::DOUBLE);
  d.add_dims(2);
  d.add_double_data(0.1);
  d.add_double_data(-1e300);
  EXPECT_EQ(values_of<double>(parse_tensor_pb(serialize(d), "d").tensor), (std::vector<double>{0.1, -1e300}));

  onnx::TensorProto i64;
  i64.set_data_type(onnx::TensorProto::INT64);
  i64.add_dims(1);
  i64.add_dims(2);
  i64.add_int64_data(std::numeric_limits<std::int64_t>::min());
  i64.add_int64_data(7);
  const Tensor t64 = parse_tensor_pb(serialize(i64), "i").tensor;
  EXPECT_EQ(t64.shape(), (Shape{1, 2}));
  EXPECT_EQ(values_of<std::int64_t>(t64), (std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), 7}));

  onnx::TensorProto i32;
  i32.set_data_type(onnx::TensorProto::INT32);
  i32.add_dims(2);
  i32.add_int32_data(std::numeric_limits<std::int32_t>::min());
  i32.add_int32_data(-1);
  EXPECT_EQ(values_of<std::int32_t>(parse_tensor_pb(serialize(i32), "i").tensor),
            (std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), -1}));

  onnx::TensorProto u64;
  u64.set_data_type(onnx::TensorProto::UINT64);
  u64.add_dims(1);
  u64.add_uint64_data(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(values_of<std::uint64_t>(parse_tensor_pb(serialize(u64), "u").tensor),
            (std::vector<std::uint64_t>{std::numeric_limits<std::uint64_t>::max()}));

  onnx::TensorProto u32;
  u32.set_data_type(onnx::TensorProto::UINT32);
  u32.add_dims(2);
  u32.add_uint64_data(4294967295U);
  u32.add_uint64_data(0);
  EXPECT_EQ(values_of<std::uint32_t>(parse_tensor_pb(serialize(u32), "u").tensor),
            (std::vector<std::uint32_t>{4294967295U, 0}));
  u32.set_uint64_data(1, 4294967296U);
  EXPECT_EQ(error_of(serialize(u32)), "input_0.pb: uint64_data[1] = 4294967296 is out of range for uint32");
}

TEST(TensorPbTyped, NarrowTypesInInt32Data) {
  const auto make = [](onnx::TensorProto::DataType type, std::vector<std::int32_t> values) {
    onnx::TensorProto p;
    p.set_data_type(type);
    p.add_dims(static_cast<std::int64_t>(values.size()));
    for (auto v : values) p.add_int32_data(v);
    return serialize(p);
  };
  EXPECT_EQ(values_of<std::int8_t>(parse_tensor_pb(make(onnx::TensorProto::INT8, {-128, 0, 127}), "p").tensor),
            (std::vector<std::int8_t>{-128, 0, 127}));
  EXPECT_EQ(values_of<std::uint8_t>(parse_tensor_pb(make(onnx::TensorProto::UINT8, {0, 255}), "p").tensor),
            (std::vector<std::uint8_t>{0, 255}));
  EXPECT_EQ(values_of<std::int16_t>(parse_tensor_pb(make(onnx::TensorProto::INT16, {-32768, 32767}), "p").tensor),
            (std::vector<std::int16_t>{-32768, 32767}));
  EXPECT_EQ(values_of<std::uint16_t>(parse_tensor_pb(make(onnx::TensorProto::UINT16, {65535}), "p").tensor),
            (std::vector<std::uint16_t>{65535}));
  EXPECT_EQ(values_of<std::uint8_t>(parse_tensor_pb(make(onnx::TensorProto::BOOL, {1, 0, 1}), "p").tensor),
            (std::vector<std::uint8_t>{1, 0, 1}));
  // float16 and bfloat16: the bit pattern; a sign-extended pattern (-16384 = 0xC000) is the same value.
  const Tensor half = parse_tensor_pb(make(onnx::TensorProto::FLOAT16, {0x3C00, 0x7BFF, -16384}), "p").tensor;
  EXPECT_EQ(half.element_type(), ElementType::Float16);
  EXPECT_EQ(values_of<std::uint16_t>(half), (std::vector<std::uint16_t>{0x3C00, 0x7BFF, 0xC000}));
  EXPECT_EQ(half.value_as_double(2), -2.0);
  const Tensor bf = parse_tensor_pb(make(onnx::TensorProto::BFLOAT16, {0x3F80, 0xC000}), "p").tensor;
  EXPECT_EQ(bf.element_type(), ElementType::BFloat16);
  EXPECT_EQ(bf.value_as_double(0), 1.0);
  EXPECT_EQ(bf.value_as_double(1), -2.0);

  EXPECT_EQ(error_of(make(onnx::TensorProto::INT8, {300})), "input_0.pb: int32_data[0] = 300 is out of range for int8");
  EXPECT_EQ(error_of(make(onnx::TensorProto::UINT8, {0, -1})),
            "input_0.pb: int32_data[1] = -1 is out of range for uint8");
  EXPECT_THAT(error_of(make(onnx::TensorProto::INT16, {40000})), HasSubstr("out of range for int16"));
  EXPECT_THAT(error_of(make(onnx::TensorProto::UINT16, {65536})), HasSubstr("out of range for uint16"));
  EXPECT_THAT(error_of(make(onnx::TensorProto::BOOL, {2})), HasSubstr("out of range for bool"));
  EXPECT_THAT(error_of(make(onnx::TensorProto::FLOAT16, {70000})), HasSubstr("not a 16-bit float16 pattern"));
}

TEST(TensorPbTyped, StringData) {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::STRING);
  p.add_dims(3);
  p.add_string_data("x");
  p.add_string_data("");
  p.add_string_data("long string");
  const Tensor t = parse_tensor_pb(serialize(p), "s").tensor;
  EXPECT_EQ(t.strings(), (std::vector<std::string>{"x", "", "long string"}));
  p.add_string_data("one too many");
  EXPECT_EQ(error_of(serialize(p)), "input_0.pb: declared shape [3] needs 3 string_data values, found 4");
  p.clear_string_data();
  p.set_raw_data("abc");
  EXPECT_EQ(error_of(serialize(p)), "input_0.pb: a STRING tensor cannot use raw_data");
}

TEST(TensorPbTyped, CountsMustMatchTheShape) {
  onnx::TensorProto p = float_proto({2, 3});
  for (int i = 0; i < 5; ++i) p.add_float_data(1);
  EXPECT_EQ(error_of(p), "input_0.pb: declared shape [2,3] needs 6 float_data values, found 5");
  p.clear_float_data();
  EXPECT_EQ(error_of(p), "input_0.pb: declared shape [2,3] needs 6 float_data values, found 0 (and no raw_data)");
  // A zero-element tensor needs no data at all.
  EXPECT_EQ(parse_tensor_pb(serialize(float_proto({0, 3})), "z").tensor.element_count(), 0U);
}

TEST(TensorPbTyped, FieldsThatDoNotBelongAreRefused) {
  onnx::TensorProto p = float_proto({1});
  p.add_int64_data(1);
  EXPECT_EQ(error_of(p), "input_0.pb: a FLOAT tensor has int64_data, which its type does not use");
  onnx::TensorProto both = float_proto({1});
  both.add_float_data(1);
  both.set_raw_data(std::string(4, '\0'));
  EXPECT_EQ(error_of(both), "input_0.pb: the tensor has both raw_data and float_data");
}

// --- hostile -----------------------------------------------------------------------------------------

TEST(TensorPbHostile, EveryTruncationThrows) {
  const auto whole = encode_tensor_pb({"input", patterned(ElementType::Float, {2, 3})});
  for (std::size_t n = 0; n < whole.size(); ++n) {
    SCOPED_TRACE(n);
    const std::span<const std::byte> prefix(whole.data(), n);
    EXPECT_THROW((void)parse_tensor_pb(prefix, "t.pb"), Error);
  }
  // string_data (field 6) comes before name (field 8): the prefix that drops just the name is a valid
  // message. Any prefix that parses must then hold every string; all others must throw.
  const Tensor words = Tensor::from_strings({3}, {"abc", "de", "f"});
  const auto strings = encode_tensor_pb({"s", words});
  std::size_t parsed = 0;
  for (std::size_t n = 0; n < strings.size(); ++n) {
    SCOPED_TRACE(n);
    try {
      const NamedTensor t = parse_tensor_pb(std::span<const std::byte>(strings.data(), n), "s.pb");
      EXPECT_TRUE(t.tensor == words);
      EXPECT_EQ(t.name, "");
      ++parsed;
    } catch (const Error& e) {
      EXPECT_TRUE(std::string_view(e.what()).starts_with("s.pb: ")) << e.what();
    }
  }
  EXPECT_EQ(parsed, 1U);
}

TEST(TensorPbHostile, RandomGarbageNeverCrashes) {
  std::mt19937 random(2024);
  std::size_t errors = 0;
  constexpr int kTrials = 5000;
  const auto valid = encode_tensor_pb({"x", patterned(ElementType::Int32, {4, 2})});
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<std::byte> bytes;
    if (trial % 2 == 0) {  // pure noise
      bytes.resize(random() % 80);
      for (auto& b : bytes) b = static_cast<std::byte>(random() & 0xFF);
    } else {  // a valid message with a few bytes changed
      bytes = valid;
      for (int f = 0; f < 3; ++f) bytes[random() % bytes.size()] = static_cast<std::byte>(random() & 0xFF);
    }
    try {
      const NamedTensor t = parse_tensor_pb(bytes, "g.pb");
      EXPECT_LE(t.tensor.byte_size(), bytes.size());
    } catch (const Error& e) {
      ++errors;
      EXPECT_TRUE(std::string_view(e.what()).starts_with("g.pb: ")) << e.what();
    }
  }
  EXPECT_GT(errors, kTrials / 2U);
}

TEST(TensorPbHostile, NotAMessage) {
  const std::vector<std::byte> bytes{std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}};
  EXPECT_EQ(error_of(bytes), "input_0.pb: not a valid TensorProto");
  EXPECT_EQ(error_of(std::vector<std::byte>{}), "input_0.pb: data_type is UNDEFINED (or missing)");
}

TEST(TensorPbHostile, RawDataShorterOrLongerThanTheShape) {
  onnx::TensorProto p = float_proto({2, 3});
  p.set_raw_data(std::string(20, '\0'));
  EXPECT_EQ(error_of(p), "input_0.pb: declared shape [2,3] needs 24 bytes of raw_data, found 20");
  p.set_raw_data(std::string(28, '\0'));
  EXPECT_EQ(error_of(p), "input_0.pb: declared shape [2,3] needs 24 bytes of raw_data, found 28");
}

TEST(TensorPbHostile, NegativeAndOverflowingDims) {
  onnx::TensorProto negative = float_proto({2, -1});
  negative.set_raw_data(std::string(8, '\0'));
  EXPECT_THAT(error_of(negative), HasSubstr("input_0.pb: negative dimension -1"));
  onnx::TensorProto overflow = float_proto({std::int64_t{1} << 62, std::int64_t{1} << 62});
  overflow.set_raw_data(std::string(8, '\0'));
  EXPECT_THAT(error_of(overflow), HasSubstr("has too many elements"));
  onnx::TensorProto bytes_overflow = float_proto({std::int64_t{1} << 62});
  bytes_overflow.set_raw_data(std::string(8, '\0'));
  EXPECT_THAT(error_of(bytes_overflow), HasSubstr("too large"));
}

// 2^40 float32 values (4 TiB) declared over 4 bytes: must fail on the size check, not the allocation.
TEST(TensorPbHostile, HugeDeclaredSizeWithTinyDataThrowsWithoutAllocating) {
  onnx::TensorProto raw = float_proto({std::int64_t{1} << 40});
  raw.set_raw_data(std::string(4, '\0'));
  EXPECT_EQ(error_of(raw), "input_0.pb: declared shape [1099511627776] needs 4398046511104 bytes of raw_data, found 4");
  onnx::TensorProto typed = float_proto({std::int64_t{1} << 40});
  typed.add_float_data(1);
  EXPECT_THAT(error_of(typed), HasSubstr("needs 1099511627776 float_data values, found 1"));
}

TEST(TensorPbHostile, ExternalDataAndSegmentsAreRefused) {
  onnx::TensorProto external = float_proto({2});
  external.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = external.add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  EXPECT_EQ(error_of(external), "input_0.pb: tensor 'x' keeps its data in an external file, which is not supported");
  onnx::TensorProto location_only = float_proto({2});
  location_only.set_data_location(onnx::TensorProto::EXTERNAL);
  EXPECT_THAT(error_of(location_only), HasSubstr("external file"));
  // A newline in the tensor's name made that message two lines (corpus/tensor_pb/regress-external-name).
  location_only.set_name("w\nx");
  EXPECT_EQ(error_of(location_only),
            "input_0.pb: tensor 'w x' keeps its data in an external file, which is not supported");

  onnx::TensorProto segmented = float_proto({2});
  segmented.mutable_segment()->set_begin(0);
  segmented.mutable_segment()->set_end(2);
  segmented.set_raw_data(std::string(8, '\0'));
  EXPECT_EQ(error_of(segmented), "input_0.pb: segmented TensorProtos are not supported");
}

TEST(TensorPbHostile, UndefinedAndUnsupportedDataTypes) {
  onnx::TensorProto p;
  p.add_dims(1);
  p.set_raw_data(std::string(4, '\0'));
  EXPECT_EQ(error_of(p), "input_0.pb: data_type is UNDEFINED (or missing)");
  p.set_data_type(onnx::TensorProto::UNDEFINED);
  EXPECT_EQ(error_of(p), "input_0.pb: data_type is UNDEFINED (or missing)");
  p.set_data_type(onnx::TensorProto::COMPLEX64);
  EXPECT_EQ(error_of(p), "input_0.pb: data_type COMPLEX64 is not supported");
  p.set_data_type(99);
  EXPECT_EQ(error_of(p), "input_0.pb: data_type 99 is not supported");
  p.set_data_type(-5);
  EXPECT_EQ(error_of(p), "input_0.pb: data_type -5 is not supported");
}

// --- python onnx ---------------------------------------------------------------------------------------

class TensorPbPython : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = test::python_lacks("numpy, onnx"); !why.empty()) GTEST_SKIP() << why;
  }
  TempDir dir_;
};

TEST_F(TensorPbPython, ReadsFilesMadeByOnnx) {
  const auto result = run_python(dir_, R"(
import numpy as np, onnx
from onnx import numpy_helper, helper, TensorProto
def save(t, name):
    with open(name, 'wb') as f:
        f.write(t.SerializeToString())
save(numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3) / 4, 'f32'), 'f32.pb')
save(numpy_helper.from_array(np.array([-2**63, 2**63 - 1], dtype=np.int64), 'i64'), 'i64.pb')
save(numpy_helper.from_array(np.array([True, False, True]), 'b'), 'b.pb')
save(numpy_helper.from_array(np.array([1, -2, 65504], dtype=np.float16), 'f16'), 'f16.pb')
save(numpy_helper.from_array(np.array([0, 255], dtype=np.uint8), 'u8'), 'u8.pb')
save(numpy_helper.from_array(np.array(0.1, dtype=np.float64), 'scalar'), 'scalar.pb')
save(numpy_helper.from_array(np.array([b'ab', b'', b'xyz'], dtype=object), 'str'), 'str.pb')
save(helper.make_tensor('tf16', TensorProto.FLOAT16, [3], np.array([1, -2, 65504], dtype=np.float16)), 'tf16.pb')
save(helper.make_tensor('tbool', TensorProto.BOOL, [3], [True, False, True]), 'tbool.pb')
save(helper.make_tensor('ti8', TensorProto.INT8, [3], [-128, 0, 127]), 'ti8.pb')
save(helper.make_tensor('tf32', TensorProto.FLOAT, [2], [1.5, -3.0]), 'tf32.pb')
save(helper.make_tensor('tu64', TensorProto.UINT64, [1], [2**64 - 1]), 'tu64.pb')
t = helper.make_tensor('tf16', TensorProto.FLOAT16, [3], np.array([1, -2, 65504], dtype=np.float16))
assert len(t.int32_data) == 3 and not t.raw_data, t
)");
  ASSERT_EQ(result.status, 0) << result.output;
  const auto read = [&](const std::string& name) { return read_tensor_pb(dir_ / name); };

  const NamedTensor f32 = read("f32.pb");
  EXPECT_EQ(f32.name, "f32");
  EXPECT_EQ(f32.tensor.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<float>(f32.tensor), (std::vector<float>{0, 0.25F, 0.5F, 0.75F, 1, 1.25F}));
  EXPECT_EQ(
      values_of<std::int64_t>(read("i64.pb").tensor),
      (std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}));
  EXPECT_EQ(values_of<std::uint8_t>(read("b.pb").tensor), (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_EQ(read("b.pb").tensor.element_type(), ElementType::Bool);
  EXPECT_EQ(values_of<std::uint16_t>(read("f16.pb").tensor), (std::vector<std::uint16_t>{0x3C00, 0xC000, 0x7BFF}));
  EXPECT_EQ(values_of<std::uint8_t>(read("u8.pb").tensor), (std::vector<std::uint8_t>{0, 255}));
  const Tensor scalar = read("scalar.pb").tensor;
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar.data<double>()[0], 0.1);
  EXPECT_EQ(read("str.pb").tensor.strings(), (std::vector<std::string>{"ab", "", "xyz"}));

  const NamedTensor tf16 = read("tf16.pb");
  EXPECT_EQ(tf16.name, "tf16");
  EXPECT_EQ(values_of<std::uint16_t>(tf16.tensor), (std::vector<std::uint16_t>{0x3C00, 0xC000, 0x7BFF}));
  EXPECT_EQ(values_of<std::uint8_t>(read("tbool.pb").tensor), (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_EQ(values_of<std::int8_t>(read("ti8.pb").tensor), (std::vector<std::int8_t>{-128, 0, 127}));
  EXPECT_EQ(values_of<float>(read("tf32.pb").tensor), (std::vector<float>{1.5F, -3.0F}));
  EXPECT_EQ(values_of<std::uint64_t>(read("tu64.pb").tensor),
            (std::vector<std::uint64_t>{std::numeric_limits<std::uint64_t>::max()}));
}

TEST_F(TensorPbPython, OnnxReadsWhatWeWrite) {
  std::string checks = "import numpy as np, onnx\nfrom onnx import numpy_helper\n";
  int k = 0;
  for (ElementType type : kNumericTypes) {
    if (type == ElementType::BFloat16) continue;  // numpy has no bfloat16 to compare with
    const std::string name = fmt::format("t{}.pb", k++);
    Tensor t(type, {2, 3});
    for (std::size_t i = 0; i < 6; ++i) {
      // Element i is i (bool: i % 2), as below in numpy.
      auto bytes = t.bytes().subspan(i * element_size(type), element_size(type));
      if (type == ElementType::Float) {
        const float v = static_cast<float>(i);
        std::memcpy(bytes.data(), &v, 4);
      } else if (type == ElementType::Double) {
        const double v = static_cast<double>(i);
        std::memcpy(bytes.data(), &v, 8);
      } else if (type == ElementType::Float16) {
        const std::uint16_t v = float_to_half(static_cast<float>(i));
        std::memcpy(bytes.data(), &v, 2);
      } else {
        bytes[0] = std::byte(type == ElementType::Bool ? i % 2 : i);  // little-endian small integers
      }
    }
    write_tensor_pb(dir_ / name, {fmt::format("in{}", k), t});
    const std::string dtype = type == ElementType::Bool ? "np.bool_" : fmt::format("np.{}", element_type_name(type));
    const std::string expected = type == ElementType::Bool
                                     ? "(np.arange(6) % 2).astype(np.bool_).reshape(2, 3)"
                                     : fmt::format("np.arange(6).astype({}).reshape(2, 3)", dtype);
    checks += fmt::format(
        "p = onnx.TensorProto()\n"
        "p.ParseFromString(open('{0}', 'rb').read())\n"
        "a = numpy_helper.to_array(p)\n"
        "e = {1}\n"
        "assert p.name == 'in{2}' and a.dtype == e.dtype and a.shape == e.shape and np.array_equal(a, e), ('{0}', a, "
        "e)\n",
        name, expected, k);
  }
  write_tensor_pb(dir_ / "s.pb", {"s", Tensor::from_strings({2}, {"ab", "c"})});
  checks +=
      "p = onnx.TensorProto()\n"
      "p.ParseFromString(open('s.pb', 'rb').read())\n"
      "a = numpy_helper.to_array(p)\n"
      "assert [x.decode() if isinstance(x, bytes) else x for x in a.tolist()] == ['ab', 'c'], a\n"
      "print('ok')\n";
  const auto result = run_python(dir_, checks);
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("ok"));
}

}  // namespace
}  // namespace onnxpool
