// Tensor: construction, copies, element counts, half-precision conversions, compare(), and batching
// (concat_first_dim / split_first_dim).
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;

const std::vector<ElementType> kNumericTypes{
    ElementType::Float,  ElementType::UInt8,  ElementType::Int8,     ElementType::UInt16,  ElementType::Int16,
    ElementType::Int32,  ElementType::Int64,  ElementType::Bool,     ElementType::Float16, ElementType::Double,
    ElementType::UInt32, ElementType::UInt64, ElementType::BFloat16,
};

Tensor float_tensor(Shape shape, const std::vector<float>& values) {
  Tensor t(ElementType::Float, std::move(shape));
  EXPECT_EQ(t.element_count(), values.size());
  std::copy(values.begin(), values.end(), t.data<float>().begin());
  return t;
}

Tensor int64_tensor(Shape shape, const std::vector<std::int64_t>& values) {
  Tensor t(ElementType::Int64, std::move(shape));
  EXPECT_EQ(t.element_count(), values.size());
  std::copy(values.begin(), values.end(), t.data<std::int64_t>().begin());
  return t;
}

// --- construction ----------------------------------------------------------------------------------

TEST(Tensor, ZeroFilledForEveryNumericType) {
  for (ElementType type : kNumericTypes) {
    SCOPED_TRACE(std::string(element_type_name(type)));
    const Tensor t(type, {2, 3, 5});
    EXPECT_EQ(t.element_type(), type);
    EXPECT_EQ(t.shape(), (Shape{2, 3, 5}));
    EXPECT_EQ(t.element_count(), 30U);
    EXPECT_EQ(t.byte_size(), 30 * element_size(type));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64, 0U);
    for (std::byte b : t.bytes()) ASSERT_EQ(b, std::byte{0});
    for (std::size_t i = 0; i < t.element_count(); ++i) ASSERT_EQ(t.value_as_double(i), 0.0);
  }
}

TEST(Tensor, StringTensorStartsWithEmptyStrings) {
  const Tensor t(ElementType::String, {2, 2});
  ASSERT_EQ(t.strings().size(), 4U);
  for (const auto& s : t.strings()) EXPECT_EQ(s, "");
  EXPECT_EQ(t.byte_size(), 0U);
}

TEST(Tensor, RankZeroHasOneElementAndZeroSizeHasNone) {
  const Tensor scalar(ElementType::Double, {});
  EXPECT_EQ(scalar.element_count(), 1U);
  EXPECT_EQ(scalar.byte_size(), 8U);
  const Tensor empty(ElementType::Float, {0, 3});
  EXPECT_EQ(empty.element_count(), 0U);
  EXPECT_EQ(empty.byte_size(), 0U);
  EXPECT_NE(empty.raw_data(), nullptr);  // ONNX Runtime wants a pointer even for no data
}

TEST(Tensor, ElementSizesAndNames) {
  EXPECT_EQ(element_size(ElementType::Float), 4U);
  EXPECT_EQ(element_size(ElementType::Double), 8U);
  EXPECT_EQ(element_size(ElementType::Float16), 2U);
  EXPECT_EQ(element_size(ElementType::BFloat16), 2U);
  EXPECT_EQ(element_size(ElementType::Bool), 1U);
  EXPECT_EQ(element_size(ElementType::UInt64), 8U);
  EXPECT_EQ(element_size(ElementType::String), 0U);
  EXPECT_EQ(element_type_name(ElementType::Float), "float32");
  EXPECT_EQ(element_type_name(ElementType::Double), "float64");
  EXPECT_EQ(element_type_name(ElementType::Bool), "bool");
  EXPECT_EQ(element_type_name(ElementType::BFloat16), "bfloat16");
  for (ElementType type : kNumericTypes) {
    EXPECT_EQ(parse_element_type(element_type_name(type)), type) << element_type_name(type);
  }
  EXPECT_EQ(parse_element_type("string"), ElementType::String);
  EXPECT_EQ(parse_element_type("float"), ElementType::Float);
  EXPECT_EQ(parse_element_type("double"), ElementType::Double);
  EXPECT_EQ(parse_element_type("tensor(float16)"), ElementType::Float16);
  EXPECT_THROW((void)parse_element_type("complex64"), Error);
  EXPECT_THROW((void)parse_element_type("undefined"), Error);
  // Found by tests/fuzz/grammars_fuzz.cpp (corpus/grammars/regress-element-type-newline): the name was
  // quoted as given, and the message was two lines.
  try {
    (void)parse_element_type("\n,");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown element type ' ,'");
  }
  EXPECT_THROW((void)element_size(static_cast<ElementType>(99)), Error);
}

// A view reads memory it does not own (kept alive by its owner), copies of it share that memory, and
// the first write access copies it into storage of the tensor's own: the memory is never written.
TEST(Tensor, AViewReadsItsMemoryAndCopiesItOnTheFirstWrite) {
  auto memory = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  const auto* bytes = reinterpret_cast<const std::byte*>(memory->data());
  Tensor view = Tensor::view(ElementType::Float, {2, 2}, bytes + 2 * sizeof(float), memory);
  EXPECT_TRUE(view.is_view());
  const Tensor& reader = view;
  EXPECT_EQ(reader.raw_data(), memory->data() + 2) << "no copy";
  EXPECT_EQ(std::vector<float>(reader.data<float>().begin(), reader.data<float>().end()),
            (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ(reader.value_as_double(3), 6.0);
  const Tensor copy = view;
  EXPECT_TRUE(copy.is_view());
  EXPECT_EQ(copy.raw_data(), reader.raw_data());
  EXPECT_TRUE(copy == float_tensor({2, 2}, {3, 4, 5, 6}));

  const std::weak_ptr<std::vector<float>> watch = memory;
  memory.reset();
  EXPECT_FALSE(watch.expired()) << "the views keep their memory alive";
  view.data<float>()[0] = 100;  // a write: the view becomes a tensor of its own first
  EXPECT_FALSE(view.is_view());
  EXPECT_EQ((*watch.lock())[2], 3.0F) << "the memory is not written";
  EXPECT_EQ(view.data<float>()[1], 4.0F);
  EXPECT_EQ(copy.data<float>()[0], 3.0F);
  Tensor moved = std::move(view);
  EXPECT_EQ(moved.data<float>()[0], 100.0F);

  EXPECT_THROW((void)Tensor::view(ElementType::String, {1}, bytes, std::make_shared<int>(0)), Error);
  EXPECT_THROW((void)Tensor::view(ElementType::Float, {1}, bytes, nullptr), Error);
}

TEST(Tensor, CopyIsDeep) {
  Tensor original = float_tensor({2, 2}, {1, 2, 3, 4});
  Tensor copy = original;
  copy.data<float>()[0] = 100;
  EXPECT_EQ(original.data<float>()[0], 1.0F);
  EXPECT_NE(copy.raw_data(), original.raw_data());
  EXPECT_FALSE(copy == original);

  Tensor assigned(ElementType::Int8, {7});
  assigned = original;
  EXPECT_TRUE(assigned == original);
  assigned.data<float>()[3] = -1;
  EXPECT_EQ(original.data<float>()[3], 4.0F);

  Tensor strings = Tensor::from_strings({2}, {"a", "b"});
  Tensor strings_copy = strings;
  strings_copy.strings()[0] = "changed";
  EXPECT_EQ(strings.strings()[0], "a");

  const Tensor undefined;
  const Tensor undefined_copy = undefined;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(undefined_copy.element_type(), ElementType::Undefined);
}

TEST(Tensor, ElementCountRejectsNegativeAndOverflowingShapes) {
  EXPECT_EQ(element_count({}), 1U);
  EXPECT_EQ(element_count({1, 3, 224, 224}), 150528U);
  EXPECT_EQ(element_count({0, std::int64_t{1} << 62}), 0U);
  try {
    (void)element_count({2, -3});
    FAIL() << "no Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("-3"));
  }
  EXPECT_THROW((void)element_count({std::int64_t{1} << 32, std::int64_t{1} << 32}), Error);
  EXPECT_THROW((void)element_count({std::int64_t{1} << 62, std::int64_t{1} << 62}), Error);
  EXPECT_THROW((void)element_count({std::numeric_limits<std::int64_t>::max(), 3}), Error);
  EXPECT_THROW(Tensor(ElementType::Float, {-1}), Error);
  EXPECT_THROW(Tensor(ElementType::Float, {std::int64_t{1} << 62}), Error);  // 2^62 * 4 bytes overflows
  EXPECT_THROW(Tensor(ElementType::Undefined, {1}), Error);
  EXPECT_THROW(Tensor(static_cast<ElementType>(99), {1}), Error);
}

TEST(Tensor, TypedViewsCheckTheElementSize) {
  Tensor t(ElementType::Float16, {3});
  EXPECT_EQ(t.data<std::uint16_t>().size(), 3U);
  EXPECT_THROW((void)t.data<float>(), Error);
  Tensor s(ElementType::String, {1});
  EXPECT_THROW((void)s.data<char>(), Error);
  EXPECT_THROW((void)s.value_as_double(0), Error);
}

TEST(Tensor, FromStringsChecksTheCount) {
  const Tensor t = Tensor::from_strings({2, 1}, {"x", "yz"});
  EXPECT_EQ(t.strings(), (std::vector<std::string>{"x", "yz"}));
  EXPECT_THROW((void)Tensor::from_strings({3}, {"x"}), Error);
}

TEST(Tensor, ValueAsDoubleReadsEachType) {
  Tensor i8(ElementType::Int8, {1});
  i8.data<std::int8_t>()[0] = -7;
  EXPECT_EQ(i8.value_as_double(0), -7.0);
  Tensor u16(ElementType::UInt16, {1});
  u16.data<std::uint16_t>()[0] = 65535;
  EXPECT_EQ(u16.value_as_double(0), 65535.0);
  Tensor h(ElementType::Float16, {1});
  h.data<std::uint16_t>()[0] = 0xC000;
  EXPECT_EQ(h.value_as_double(0), -2.0);
  Tensor bf(ElementType::BFloat16, {1});
  bf.data<std::uint16_t>()[0] = 0x3F80;
  EXPECT_EQ(bf.value_as_double(0), 1.0);
  Tensor b(ElementType::Bool, {2});
  b.data<std::uint8_t>()[1] = 1;
  EXPECT_EQ(b.value_as_double(0), 0.0);
  EXPECT_EQ(b.value_as_double(1), 1.0);
}

// --- float16 / bfloat16 ----------------------------------------------------------------------------

TEST(Half, KnownBitPatternsToFloat) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0F);
  EXPECT_EQ(half_to_float(0xC000), -2.0F);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0F);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0F, -24));  // smallest subnormal, 5.96e-8
  EXPECT_NEAR(half_to_float(0x0001), 5.96e-8F, 1e-10F);
  EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.0F, -24));  // largest subnormal
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0F, -14));     // smallest normal
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125F);
  EXPECT_EQ(half_to_float(0x0000), 0.0F);
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7C01)));
}

TEST(Half, KnownFloatsToBits) {
  EXPECT_EQ(float_to_half(1.0F), 0x3C00);
  EXPECT_EQ(float_to_half(-2.0F), 0xC000);
  EXPECT_EQ(float_to_half(65504.0F), 0x7BFF);
  EXPECT_EQ(float_to_half(std::ldexp(1.0F, -24)), 0x0001);
  EXPECT_EQ(float_to_half(0.0F), 0x0000);
  EXPECT_EQ(float_to_half(-0.0F), 0x8000);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xFC00);
  const std::uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
}

TEST(Half, RoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 (0x3C00, even) and 1 + 2^-10 (0x3C01): goes to even.
  EXPECT_EQ(float_to_half(1.0F + std::ldexp(1.0F, -11)), 0x3C00);
  // 1 + 3*2^-11 lies halfway between 0x3C01 (odd) and 0x3C02 (even).
  EXPECT_EQ(float_to_half(1.0F + 3 * std::ldexp(1.0F, -11)), 0x3C02);
  // Just above halfway rounds up.
  EXPECT_EQ(float_to_half(1.0F + std::ldexp(1.0F, -11) + std::ldexp(1.0F, -20)), 0x3C01);
  // 65520 is halfway between 65504 (odd mantissa) and 65536 (inf): to inf. Just below stays finite.
  EXPECT_EQ(float_to_half(65520.0F), 0x7C00);
  EXPECT_EQ(float_to_half(65519.0F), 0x7BFF);
  EXPECT_EQ(float_to_half(1e6F), 0x7C00);
  // Subnormals: 2^-25 is halfway between 0 and the smallest subnormal: to 0 (even).
  EXPECT_EQ(float_to_half(std::ldexp(1.0F, -25)), 0x0000);
  EXPECT_EQ(float_to_half(std::ldexp(1.0F, -25) * 1.0001F), 0x0001);
  EXPECT_EQ(float_to_half(3 * std::ldexp(1.0F, -25)), 0x0002);  // 1.5 units: to 2 (even)
  EXPECT_EQ(float_to_half(5 * std::ldexp(1.0F, -25)), 0x0002);  // 2.5 units: to 2 (even)
  EXPECT_EQ(float_to_half(1e-8F), 0x0000);
  EXPECT_EQ(float_to_half(-1e-8F), 0x8000);
  // The largest subnormal rounding up carries into the smallest normal.
  EXPECT_EQ(float_to_half(std::ldexp(1023.75F, -24)), 0x0400);
}

TEST(Half, EveryBitPatternRoundTrips) {
  for (std::uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float f = half_to_float(h);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(half_to_float(float_to_half(f)))) << std::hex << bits;
    } else {
      ASSERT_EQ(float_to_half(f), h) << std::hex << bits;
    }
  }
}

TEST(BFloat16, KnownBitPatterns) {
  EXPECT_EQ(bfloat16_to_float(0x3F80), 1.0F);
  EXPECT_EQ(bfloat16_to_float(0xC000), -2.0F);
  EXPECT_EQ(bfloat16_to_float(0x7F80), std::numeric_limits<float>::infinity());
  EXPECT_EQ(bfloat16_to_float(0x0001), std::ldexp(1.0F, -133));  // smallest subnormal
  EXPECT_TRUE(std::isnan(bfloat16_to_float(0x7FC0)));
  EXPECT_EQ(float_to_bfloat16(1.0F), 0x3F80);
  EXPECT_EQ(float_to_bfloat16(-2.0F), 0xC000);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::infinity()), 0x7F80);
  const std::uint16_t nan = float_to_bfloat16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(bfloat16_to_float(nan)));
  // A signalling NaN whose payload lies in the dropped bits must stay NaN, not become inf.
  EXPECT_TRUE(std::isnan(bfloat16_to_float(float_to_bfloat16(std::bit_cast<float>(0x7F800001U)))));
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(float_to_bfloat16(1.0F + std::ldexp(1.0F, -8)), 0x3F80);      // tie: to even
  EXPECT_EQ(float_to_bfloat16(1.0F + 3 * std::ldexp(1.0F, -8)), 0x3F82);  // tie: to even
  EXPECT_EQ(float_to_bfloat16(1.0F + std::ldexp(1.0F, -8) + std::ldexp(1.0F, -20)), 0x3F81);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to inf
}

TEST(BFloat16, EveryBitPatternRoundTrips) {
  for (std::uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const auto b = static_cast<std::uint16_t>(bits);
    const float f = bfloat16_to_float(b);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bfloat16_to_float(float_to_bfloat16(f)))) << std::hex << bits;
    } else {
      ASSERT_EQ(float_to_bfloat16(f), b) << std::hex << bits;
    }
  }
}

// --- compare ---------------------------------------------------------------------------------------

TEST(Compare, IdenticalTensorsAreEqual) {
  const Tensor a = float_tensor({3}, {1, -2, 3.5F});
  const Comparison c = compare(a, a);
  EXPECT_TRUE(c.equal);
  EXPECT_EQ(c.mismatches, 0U);
  EXPECT_EQ(c.max_abs_error, 0.0);
  EXPECT_EQ(c.max_rel_error, 0.0);
  EXPECT_EQ(c.problem, "");
}

TEST(Compare, AbsoluteTolerance) {
  const Tensor expected = float_tensor({2}, {0, 0});
  const Comparison within = compare(expected, float_tensor({2}, {5e-7F, -9e-7F}), 0.0, 1e-6);
  EXPECT_TRUE(within.equal) << within.problem;
  EXPECT_NEAR(within.max_abs_error, 9e-7, 1e-12);
  const Comparison outside = compare(expected, float_tensor({2}, {0, 2e-6F}), 0.0, 1e-6);
  EXPECT_FALSE(outside.equal);
  EXPECT_EQ(outside.mismatches, 1U);
  EXPECT_THAT(outside.problem, HasSubstr("element 1"));
}

TEST(Compare, RelativeTolerance) {
  const Tensor expected = float_tensor({2}, {1000, -1000});
  const Comparison within = compare(expected, float_tensor({2}, {1000.0078125F, -1000.0078125F}), 1e-5, 0.0);
  EXPECT_TRUE(within.equal) << within.problem;
  EXPECT_NEAR(within.max_rel_error, 7.8125e-6, 1e-12);
  const Comparison outside = compare(expected, float_tensor({2}, {1000.015625F, -1000}), 1e-5, 0.0);
  EXPECT_FALSE(outside.equal);
  EXPECT_EQ(outside.mismatches, 1U);
  EXPECT_NEAR(outside.max_abs_error, 0.015625, 1e-12);
  EXPECT_THAT(outside.problem, HasSubstr("element 0"));
}

TEST(Compare, CountsEveryMismatch) {
  const Tensor expected = float_tensor({5}, {1, 2, 3, 4, 5});
  const Comparison c = compare(expected, float_tensor({5}, {1, 2.5F, 3, 0, 50}));
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.mismatches, 3U);
  EXPECT_THAT(c.problem, HasSubstr("element 1"));  // the first one
  EXPECT_THAT(c.problem, HasSubstr("3 of 5 elements differ"));
  EXPECT_DOUBLE_EQ(c.max_abs_error, 45.0);
  EXPECT_DOUBLE_EQ(c.max_rel_error, 9.0);
}

TEST(Compare, IntegersAndBoolsAreExact) {
  const Tensor expected = int64_tensor({2}, {5, 7});
  EXPECT_FALSE(compare(expected, int64_tensor({2}, {5, 8}), 1.0, 10.0).equal);
  EXPECT_TRUE(compare(expected, int64_tensor({2}, {5, 7}), 1.0, 10.0).equal);
  Tensor b1(ElementType::Bool, {3});
  Tensor b2(ElementType::Bool, {3});
  b1.data<std::uint8_t>()[2] = 1;
  const Comparison c = compare(b1, b2, 1.0, 1.0);
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.mismatches, 1U);
}

// int64 values above 2^53 differ by one but are equal as doubles: "exact for integers" must still see it.
TEST(Compare, Int64IsExactBeyondDoublePrecision) {
  const std::int64_t big = (std::int64_t{1} << 53) + 1;
  const Comparison c = compare(int64_tensor({1}, {big}), int64_tensor({1}, {big - 1}), 0.0, 0.0);
  EXPECT_FALSE(c.equal) << "int64 " << big << " compared equal to " << big - 1;
  Tensor u1(ElementType::UInt64, {1});
  Tensor u2(ElementType::UInt64, {1});
  u1.data<std::uint64_t>()[0] = std::numeric_limits<std::uint64_t>::max();
  u2.data<std::uint64_t>()[0] = std::numeric_limits<std::uint64_t>::max() - 1;
  EXPECT_FALSE(compare(u1, u2, 0.0, 0.0).equal) << "uint64 max compared equal to max - 1";
}

TEST(Compare, NanEqualsNanOnly) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(compare(float_tensor({2}, {nan, 1}), float_tensor({2}, {nan, 1})).equal);
  const Comparison c = compare(float_tensor({2}, {nan, 1}), float_tensor({2}, {0, 1}));
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.mismatches, 1U);
  EXPECT_FALSE(compare(float_tensor({1}, {0}), float_tensor({1}, {nan})).equal);
}

TEST(Compare, InfinityEqualsOnlyTheSameInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(compare(float_tensor({1}, {inf}), float_tensor({1}, {inf})).equal);
  EXPECT_FALSE(compare(float_tensor({1}, {1}), float_tensor({1}, {inf})).equal);
  // rtol * |inf| is inf, so a plain |a - e| <= atol + rtol * |e| test accepts anything here.
  EXPECT_FALSE(compare(float_tensor({1}, {inf}), float_tensor({1}, {-inf})).equal) << "inf compared equal to -inf";
  EXPECT_FALSE(compare(float_tensor({1}, {inf}), float_tensor({1}, {1})).equal) << "inf compared equal to 1";
}

TEST(Compare, TypeAndShapeMismatchesSayWhat) {
  const Comparison type = compare(float_tensor({2}, {1, 2}), int64_tensor({2}, {1, 2}));
  EXPECT_FALSE(type.equal);
  EXPECT_EQ(type.problem, "element type int64 where float32 was expected");
  const Comparison shape = compare(float_tensor({2}, {1, 2}), float_tensor({2, 1}, {1, 2}));
  EXPECT_FALSE(shape.equal);
  EXPECT_EQ(shape.problem, "shape [2,1] where [2] was expected");
}

TEST(Compare, StringsAndHalves) {
  const Tensor s1 = Tensor::from_strings({3}, {"a", "b", "c"});
  const Tensor s2 = Tensor::from_strings({3}, {"a", "x", "y"});
  EXPECT_TRUE(compare(s1, s1).equal);
  const Comparison c = compare(s1, s2);
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.mismatches, 2U);
  EXPECT_THAT(c.problem, HasSubstr("\"x\""));

  Tensor h1(ElementType::Float16, {1});
  Tensor h2(ElementType::Float16, {1});
  h1.data<std::uint16_t>()[0] = float_to_half(1.0F);
  h2.data<std::uint16_t>()[0] = 0x3C01;  // 1 + 2^-10
  EXPECT_TRUE(compare(h1, h2, 1e-3, 0).equal);
  EXPECT_FALSE(compare(h1, h2, 1e-4, 0).equal);
}

// --- concat / split --------------------------------------------------------------------------------

TEST(Batching, FloatConcatSplitRoundTrip) {
  const Tensor a = float_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = float_tensor({1, 3}, {7, 8, 9});
  const Tensor* parts[] = {&a, &b};
  const Tensor whole = concat_first_dim(parts);
  EXPECT_TRUE(whole == float_tensor({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  const std::int64_t sizes[] = {2, 1};
  const auto pieces = split_first_dim(whole, sizes);
  ASSERT_EQ(pieces.size(), 2U);
  EXPECT_TRUE(pieces[0] == a);
  EXPECT_TRUE(pieces[1] == b);
}

TEST(Batching, Int64AndStringRoundTrip) {
  const Tensor a = int64_tensor({1, 2}, {std::numeric_limits<std::int64_t>::min(), 2});
  const Tensor b = int64_tensor({2, 2}, {3, 4, 5, std::numeric_limits<std::int64_t>::max()});
  const Tensor* parts[] = {&a, &b};
  const Tensor whole = concat_first_dim(parts);
  EXPECT_EQ(whole.shape(), (Shape{3, 2}));
  EXPECT_EQ(whole.data<std::int64_t>()[5], std::numeric_limits<std::int64_t>::max());
  const std::int64_t sizes[] = {1, 2};
  const auto pieces = split_first_dim(whole, sizes);
  EXPECT_TRUE(pieces[0] == a);
  EXPECT_TRUE(pieces[1] == b);

  const Tensor s1 = Tensor::from_strings({1}, {"one"});
  const Tensor s2 = Tensor::from_strings({2}, {"two", "three"});
  const Tensor* string_parts[] = {&s1, &s2};
  const Tensor strings = concat_first_dim(string_parts);
  EXPECT_EQ(strings.strings(), (std::vector<std::string>{"one", "two", "three"}));
  const std::int64_t string_sizes[] = {1, 2};
  const auto string_pieces = split_first_dim(strings, string_sizes);
  EXPECT_TRUE(string_pieces[0] == s1);
  EXPECT_TRUE(string_pieces[1] == s2);
}

TEST(Batching, ZeroSizedPieces) {
  const Tensor whole = float_tensor({2, 2}, {1, 2, 3, 4});
  const std::int64_t sizes[] = {0, 2, 0};
  const auto pieces = split_first_dim(whole, sizes);
  ASSERT_EQ(pieces.size(), 3U);
  EXPECT_EQ(pieces[0].shape(), (Shape{0, 2}));
  EXPECT_TRUE(pieces[1] == whole);
  const Tensor* parts[] = {&pieces[0], &pieces[1], &pieces[2]};
  EXPECT_TRUE(concat_first_dim(parts) == whole);
}

TEST(Batching, BadStacksThrow) {
  const Tensor a = float_tensor({1, 2}, {1, 2});
  const Tensor other_type = int64_tensor({1, 2}, {1, 2});
  const Tensor other_dims = float_tensor({1, 3}, {1, 2, 3});
  const Tensor other_rank = float_tensor({2}, {1, 2});
  const Tensor scalar = float_tensor({}, {1});
  const Tensor* by_type[] = {&a, &other_type};
  const Tensor* by_dims[] = {&a, &other_dims};
  const Tensor* by_rank[] = {&a, &other_rank};
  const Tensor* scalars[] = {&scalar, &scalar};
  for (const auto parts : {std::span<const Tensor* const>(by_type), std::span<const Tensor* const>(by_dims),
                           std::span<const Tensor* const>(by_rank), std::span<const Tensor* const>(scalars),
                           std::span<const Tensor* const>{}}) {
    EXPECT_FALSE(can_concat_first_dim(parts)) << "can_concat_first_dim says in advance what would throw";
  }
  const Tensor longer = float_tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor* fine[] = {&a, &longer, &a};
  EXPECT_TRUE(can_concat_first_dim(fine)) << "first dims may differ";
  EXPECT_EQ(concat_first_dim(fine).shape(), (Shape{5, 2}));
  EXPECT_THROW((void)concat_first_dim(by_type), Error);
  EXPECT_THROW((void)concat_first_dim(by_dims), Error);
  EXPECT_THROW((void)concat_first_dim(by_rank), Error);
  EXPECT_THROW((void)concat_first_dim(scalars), Error);
  EXPECT_THROW((void)concat_first_dim(std::span<const Tensor* const>{}), Error);
  try {
    (void)concat_first_dim(by_dims);
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("[1,3]"));
  }

  const std::int64_t too_few[] = {1};
  const std::int64_t too_many[] = {2, 1};
  EXPECT_THROW((void)split_first_dim(other_rank, too_few), Error);
  EXPECT_THROW((void)split_first_dim(other_rank, too_many), Error);
  EXPECT_THROW((void)split_first_dim(scalar, too_few), Error);
}

// Runs `body` in a child process: passes when it throws Error, fails when it returns, throws something
// else, or crashes (as a sanitizer makes it on an out-of-bounds read), without taking the test binary down.
template <class Body>
void expect_error_in_child(Body body) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        try {
          body();
        } catch (const Error&) {
          std::_Exit(0);
        } catch (...) {
          std::_Exit(2);
        }
        std::_Exit(1);
      },
      ::testing::ExitedWithCode(0), "");
}

// Sizes {3, -1} sum to the first dim of 2, but a 3-row piece must not be copied out of a 2-row tensor.
TEST(Batching, NegativeSplitSizesThrowBeforeReading) {
  expect_error_in_child([] {
    Tensor whole(ElementType::Float, {2, 64});
    const std::int64_t sizes[] = {3, -1};
    (void)split_first_dim(whole, sizes);
  });
  expect_error_in_child([] {
    const Tensor whole = Tensor::from_strings({2}, {"a", "b"});
    const std::int64_t sizes[] = {3, -1};
    (void)split_first_dim(whole, sizes);
  });
}

// The sum of the sizes must not overflow (signed overflow is undefined; here it wraps to the dim 0).
TEST(Batching, OverflowingSplitSizesThrow) {
  expect_error_in_child([] {
    Tensor whole(ElementType::Int8, {0});
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    const std::int64_t sizes[] = {max, max, 2};
    (void)split_first_dim(whole, sizes);
  });
}

}  // namespace
}  // namespace onnxpool
