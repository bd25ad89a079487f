#include "onnxpool/tensor/tensor.hpp"

#include "common/elide.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/one_line.hpp"

namespace onnxpool {
namespace {

constexpr std::size_t kAlignment = 64;  // a cache line; also what ONNX Runtime's CPU allocator uses

struct TypeRow {
  ElementType type;
  std::size_t size;
  std::string_view name;
};
constexpr std::array<TypeRow, 15> kTypes{{
    {ElementType::Float, 4, "float32"},
    {ElementType::UInt8, 1, "uint8"},
    {ElementType::Int8, 1, "int8"},
    {ElementType::UInt16, 2, "uint16"},
    {ElementType::Int16, 2, "int16"},
    {ElementType::Int32, 4, "int32"},
    {ElementType::Int64, 8, "int64"},
    {ElementType::String, 0, "string"},
    {ElementType::Bool, 1, "bool"},
    {ElementType::Float16, 2, "float16"},
    {ElementType::Double, 8, "float64"},
    {ElementType::UInt32, 4, "uint32"},
    {ElementType::UInt64, 8, "uint64"},
    {ElementType::BFloat16, 2, "bfloat16"},
    {ElementType::Undefined, 0, "undefined"},
}};

const TypeRow& row_of(ElementType type) {
  for (const auto& row : kTypes) {
    if (row.type == type) return row;
  }
  throw Error(fmt::format("unsupported element type code {}", static_cast<int>(type)));
}

template <class T>
double as_double(const std::byte* data, std::size_t i) {
  T value;
  std::memcpy(&value, data + i * sizeof(T), sizeof(T));
  return static_cast<double>(value);
}

}  // namespace

std::size_t element_size(ElementType type) {
  return row_of(type).size;
}
std::string_view element_type_name(ElementType type) {
  return row_of(type).name;
}

ElementType parse_element_type(std::string_view name) {
  if (name.starts_with("tensor(") && name.ends_with(")")) name = name.substr(7, name.size() - 8);
  if (name == "float") return ElementType::Float;
  if (name == "double") return ElementType::Double;
  for (const auto& row : kTypes) {
    if (row.name == name && row.type != ElementType::Undefined) return row.type;
  }
  throw Error(one_line(fmt::format("unknown element type '{}'", name)));  // the name may be the user's text
}

bool is_floating(ElementType type) {
  return type == ElementType::Float || type == ElementType::Double || type == ElementType::Float16 ||
         type == ElementType::BFloat16;
}

std::size_t element_count(const Shape& shape) {
  std::size_t count = 1;
  for (auto dim : shape) {
    if (dim < 0) throw Error(fmt::format("negative dimension {} in shape {}", dim, shape_to_string(shape)));
    const auto udim = static_cast<std::size_t>(dim);
    if (udim != 0 && count > std::numeric_limits<std::size_t>::max() / udim) {
      throw Error(fmt::format("shape {} has too many elements", shape_to_string(shape)));
    }
    count *= udim;
  }
  return count;
}

std::string shape_to_string(const Shape& shape) {
  return elided_list(shape, "dims");
}

// --- float16 / bfloat16 --------------------------------------------------------------------------

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000U) << 16U;
  const std::uint32_t exponent = (bits >> 10U) & 0x1FU;
  std::uint32_t mantissa = bits & 0x3FFU;
  std::uint32_t out = 0;
  if (exponent == 0x1FU) {  // inf / nan
    out = sign | 0x7F800000U | (mantissa << 13U);
  } else if (exponent != 0) {  // normal
    out = sign | ((exponent + 112U) << 23U) | (mantissa << 13U);
  } else if (mantissa != 0) {  // subnormal: renormalise
    std::uint32_t e = 113;
    while ((mantissa & 0x400U) == 0) {
      mantissa <<= 1U;
      --e;
    }
    out = sign | (e << 23U) | ((mantissa & 0x3FFU) << 13U);
  } else {
    out = sign;
  }
  return std::bit_cast<float>(out);
}

std::uint16_t float_to_half(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16U) & 0x8000U);
  const std::uint32_t abs = bits & 0x7FFFFFFFU;
  if (abs >= 0x7F800000U) {  // inf / nan (keep nan quiet)
    return static_cast<std::uint16_t>(sign | 0x7C00U | (abs > 0x7F800000U ? 0x200U : 0U));
  }
  if (abs >= 0x477FF000U) return static_cast<std::uint16_t>(sign | 0x7C00U);  // overflows to inf
  if (abs < 0x38800000U) {                                                    // subnormal or zero in half precision
    if (abs < 0x33000000U) return sign;                                       // below half of the smallest subnormal
    const std::uint32_t exponent = abs >> 23U;
    const std::uint32_t mantissa = (abs & 0x7FFFFFU) | 0x800000U;
    const std::uint32_t shift = 126U - exponent;  // 14..24
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1U << shift) - 1U);
    const std::uint32_t halfway = 1U << (shift - 1U);
    if (rest > halfway || (rest == halfway && (half & 1U))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t rounded = abs + 0xFFFU + ((abs >> 13U) & 1U);  // round to nearest even
  rounded -= 0x38000000U;                                      // rebias exponent 127 -> 15
  return static_cast<std::uint16_t>(sign | (rounded >> 13U));
}

float bfloat16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16U);
}

std::uint16_t float_to_bfloat16(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7FFFFFFFU) > 0x7F800000U) return static_cast<std::uint16_t>((bits >> 16U) | 0x40U);  // nan
  const std::uint32_t rounded = bits + 0x7FFFU + ((bits >> 16U) & 1U);
  return static_cast<std::uint16_t>(rounded >> 16U);
}

// --- Tensor --------------------------------------------------------------------------------------

void Tensor::AlignedDelete::operator()(std::byte* p) const {
  ::operator delete[](p, std::align_val_t{kAlignment});
}

Tensor::Tensor(ElementType type, Shape shape)
    : type_(type), shape_(std::move(shape)), count_(onnxpool::element_count(shape_)) {
  if (type_ == ElementType::Undefined) throw Error("a tensor needs an element type");
  row_of(type_);  // rejects unknown codes
  if (type_ == ElementType::String) {
    strings_.resize(count_);
    return;
  }
  const std::size_t size = byte_size();
  if (size / element_size(type_) != count_) throw Error(fmt::format("tensor {} is too large", shape_to_string(shape_)));
  // Always allocate at least one cache line so raw_data() is never null (ONNX Runtime wants a pointer).
  std::byte* raw = nullptr;
  try {
    raw = static_cast<std::byte*>(::operator new[](std::max(size, kAlignment), std::align_val_t{kAlignment}));
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("out of memory for a {} tensor of shape {} ({} bytes)", element_type_name(type_),
                            shape_to_string(shape_), size));
  }
  data_.reset(raw);
  std::memset(raw, 0, size);
}

Tensor Tensor::from_strings(Shape shape, std::vector<std::string> values) {
  Tensor tensor(ElementType::String, std::move(shape));
  if (values.size() != tensor.count_) {
    throw Error(
        fmt::format("{} strings given for a string tensor of shape {}", values.size(), shape_to_string(tensor.shape_)));
  }
  tensor.strings_ = std::move(values);
  return tensor;
}

Tensor Tensor::view(ElementType type, Shape shape, const std::byte* data, std::shared_ptr<const void> owner) {
  if (type == ElementType::String || type == ElementType::Undefined) {
    throw Error(fmt::format("a view of {} elements is not supported", element_type_name(type)));
  }
  Tensor tensor;
  tensor.type_ = type;
  tensor.shape_ = std::move(shape);
  tensor.count_ = onnxpool::element_count(tensor.shape_);
  row_of(type);  // rejects unknown codes
  if (data == nullptr || owner == nullptr) throw Error("a view needs memory and its owner");
  tensor.view_ = data;
  tensor.owner_ = std::move(owner);
  return tensor;
}

void Tensor::own() {
  Tensor copy(type_, shape_);
  std::memcpy(copy.data_.get(), view_, byte_size());
  data_ = std::move(copy.data_);
  view_ = nullptr;
  owner_.reset();
}

Tensor::Tensor(const Tensor& other) : type_(ElementType::Undefined) {
  if (other.type_ == ElementType::Undefined) return;
  if (other.owner_ != nullptr) {
    // A view's copy is a view of the same memory: the owner keeps it alive for both.
    type_ = other.type_;
    shape_ = other.shape_;
    count_ = other.count_;
    view_ = other.view_;
    owner_ = other.owner_;
    return;
  }
  Tensor copy(other.type_, other.shape_);
  if (other.type_ == ElementType::String) {
    copy.strings_ = other.strings_;
  } else {
    std::memcpy(copy.raw_data(), other.raw_data(), other.byte_size());
  }
  *this = std::move(copy);
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

void Tensor::check_view(std::size_t size) const {
  if (type_ == ElementType::String || size != element_size(type_)) {
    throw Error(fmt::format("cannot view a {} tensor as elements of {} bytes", element_type_name(type_), size));
  }
}

double Tensor::value_as_double(std::size_t i) const {
  const std::byte* p = storage();
  switch (type_) {
    case ElementType::Float:
      return as_double<float>(p, i);
    case ElementType::Double:
      return as_double<double>(p, i);
    case ElementType::Int8:
      return as_double<std::int8_t>(p, i);
    case ElementType::Int16:
      return as_double<std::int16_t>(p, i);
    case ElementType::Int32:
      return as_double<std::int32_t>(p, i);
    case ElementType::Int64:
      return as_double<std::int64_t>(p, i);
    case ElementType::UInt8:
      return as_double<std::uint8_t>(p, i);
    case ElementType::UInt16:
      return as_double<std::uint16_t>(p, i);
    case ElementType::UInt32:
      return as_double<std::uint32_t>(p, i);
    case ElementType::UInt64:
      return as_double<std::uint64_t>(p, i);
    case ElementType::Bool:
      return p[i] != std::byte{0} ? 1.0 : 0.0;
    case ElementType::Float16: {
      std::uint16_t bits = 0;
      std::memcpy(&bits, p + i * 2, 2);
      return half_to_float(bits);
    }
    case ElementType::BFloat16: {
      std::uint16_t bits = 0;
      std::memcpy(&bits, p + i * 2, 2);
      return bfloat16_to_float(bits);
    }
    default:
      throw Error(fmt::format("a {} tensor has no numeric values", element_type_name(type_)));
  }
}

bool operator==(const Tensor& a, const Tensor& b) {
  if (a.type_ != b.type_ || a.shape_ != b.shape_) return false;
  if (a.type_ == ElementType::String) return a.strings_ == b.strings_;
  return a.byte_size() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.byte_size()) == 0;
}

// --- comparison ----------------------------------------------------------------------------------

Comparison compare(const Tensor& expected, const Tensor& actual, double rtol, double atol) {
  Comparison result;
  if (expected.element_type() != actual.element_type()) {
    result.problem = fmt::format("element type {} where {} was expected", element_type_name(actual.element_type()),
                                 element_type_name(expected.element_type()));
    return result;
  }
  if (expected.shape() != actual.shape()) {
    result.problem = fmt::format("shape {} where {} was expected", shape_to_string(actual.shape()),
                                 shape_to_string(expected.shape()));
    return result;
  }
  const std::size_t n = expected.element_count();
  if (expected.element_type() == ElementType::String) {
    for (std::size_t i = 0; i < n; ++i) {
      if (expected.strings()[i] != actual.strings()[i]) {
        if (result.mismatches++ == 0) {
          result.problem =
              fmt::format("element {} is \"{}\", expected \"{}\"", i, actual.strings()[i], expected.strings()[i]);
        }
      }
    }
    result.equal = result.mismatches == 0;
    return result;
  }
  const bool exact = !is_floating(expected.element_type());
  const std::size_t esize = element_size(expected.element_type());
  for (std::size_t i = 0; i < n; ++i) {
    const double e = expected.value_as_double(i);
    const double a = actual.value_as_double(i);
    if (exact) {
      // Integers compare bitwise: doubles cannot tell 2^53 + 1 from 2^53. Bool bytes are 0 or 1.
      const bool same = std::memcmp(expected.bytes().data() + i * esize, actual.bytes().data() + i * esize, esize) == 0;
      const double abs_error = std::fabs(a - e);
      result.max_abs_error = std::max(result.max_abs_error, abs_error);
      if (e != 0.0) result.max_rel_error = std::max(result.max_rel_error, abs_error / std::fabs(e));
      if (!same && result.mismatches++ == 0) result.problem = fmt::format("element {} is {}, expected {}", i, a, e);
      continue;
    }
    if (std::isnan(e) || std::isnan(a)) {
      if (std::isnan(e) != std::isnan(a) && result.mismatches++ == 0) {
        result.problem = fmt::format("element {} is {}, expected {}", i, a, e);
      }
      continue;
    }
    bool ok = true;
    double abs_error = 0.0;
    if (std::isinf(e) || std::isinf(a)) {
      ok = a == e;  // an infinity equals only the same infinity (as numpy.isclose)
      abs_error = ok ? 0.0 : std::numeric_limits<double>::infinity();
    } else {
      abs_error = std::fabs(a - e);
      ok = abs_error <= atol + rtol * std::fabs(e);
    }
    result.max_abs_error = std::max(result.max_abs_error, abs_error);
    if (e != 0.0) result.max_rel_error = std::max(result.max_rel_error, abs_error / std::fabs(e));
    if (!ok && result.mismatches++ == 0) {
      result.problem = fmt::format("element {} is {}, expected {} (abs error {:g})", i, a, e, abs_error);
    }
  }
  if (result.mismatches > 1) result.problem += fmt::format("; {} of {} elements differ", result.mismatches, n);
  result.equal = result.mismatches == 0;
  return result;
}

// --- batching ------------------------------------------------------------------------------------

namespace {
bool stacks_with(const Tensor& part, const Tensor& first) {
  const Shape& a = part.shape();
  const Shape& b = first.shape();
  return part.element_type() == first.element_type() && a.size() == b.size() && !a.empty() &&
         std::equal(a.begin() + 1, a.end(), b.begin() + 1);
}
}  // namespace

bool can_concat_first_dim(std::span<const Tensor* const> parts) {
  return !parts.empty() && std::all_of(parts.begin(), parts.end(),
                                       [&](const Tensor* part) { return stacks_with(*part, *parts.front()); });
}

Tensor concat_first_dim(std::span<const Tensor* const> parts) {
  if (parts.empty()) throw Error("nothing to concatenate");
  const Tensor& first = *parts.front();
  if (first.shape().empty()) throw Error("cannot stack rank-0 tensors along a first dimension");
  Shape shape = first.shape();
  std::int64_t total = 0;
  for (const Tensor* part : parts) {
    if (!stacks_with(*part, first)) {
      throw Error(fmt::format("cannot stack a {} {} tensor with a {} {} one", element_type_name(part->element_type()),
                              shape_to_string(part->shape()), element_type_name(first.element_type()),
                              shape_to_string(first.shape())));
    }
    total += part->shape().front();
  }
  shape.front() = total;
  Tensor whole(first.element_type(), shape);
  if (first.element_type() == ElementType::String) {
    auto out = whole.strings().begin();
    for (const Tensor* part : parts) out = std::copy(part->strings().begin(), part->strings().end(), out);
    return whole;
  }
  std::byte* out = whole.bytes().data();
  for (const Tensor* part : parts) {
    if (part->byte_size() != 0) std::memcpy(out, part->raw_data(), part->byte_size());
    out += part->byte_size();
  }
  return whole;
}

std::vector<Tensor> split_first_dim(const Tensor& whole, std::span<const std::int64_t> sizes) {
  if (whole.shape().empty()) throw Error("cannot split a rank-0 tensor");
  std::int64_t total = 0;
  for (auto size : sizes) {
    // Checked before any copy: a negative or overflowing size would read past the tensor.
    if (size < 0 || size > whole.shape().front() - total) {
      throw Error(fmt::format("cannot split a first dimension of {} into pieces of sizes [{}]", whole.shape().front(),
                              fmt::join(sizes, ",")));
    }
    total += size;
  }
  if (total != whole.shape().front()) {
    throw Error(
        fmt::format("cannot split a first dimension of {} into pieces summing to {}", whole.shape().front(), total));
  }
  const std::size_t row_elements =
      whole.shape().front() == 0 ? 0 : whole.element_count() / static_cast<std::size_t>(whole.shape().front());
  std::vector<Tensor> pieces;
  pieces.reserve(sizes.size());
  std::size_t offset = 0;  // in elements
  for (auto size : sizes) {
    Shape shape = whole.shape();
    shape.front() = size;
    Tensor piece(whole.element_type(), shape);
    const std::size_t n = row_elements * static_cast<std::size_t>(size);
    if (whole.element_type() == ElementType::String) {
      std::copy_n(whole.strings().begin() + static_cast<std::ptrdiff_t>(offset), n, piece.strings().begin());
    } else if (n != 0) {
      const std::size_t esize = element_size(whole.element_type());
      std::memcpy(piece.raw_data(), whole.bytes().data() + offset * esize, n * esize);
    }
    offset += n;
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

}  // namespace onnxpool
