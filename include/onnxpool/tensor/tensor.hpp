#pragma once
// Tensor: an owning host buffer with an element type and a shape, for every element type ONNX Runtime
// supports. The numeric codes of ElementType are ONNX's TensorProto.DataType, which ONNX Runtime's
// ONNXTensorElementDataType shares, so conversion to either is a cast.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool {

enum class ElementType : int {
  Undefined = 0,
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
  BFloat16 = 16,
};

using Shape = std::vector<std::int64_t>;

// Bytes per element; 0 for String (strings are held separately) and Undefined.
std::size_t element_size(ElementType type);
// "float32", "int64", "float16", "bool", "string", ... (numpy's names).
std::string_view element_type_name(ElementType type);
// Inverse of element_type_name; also accepts "float" and ONNX's "tensor(float)". Throws Error.
ElementType parse_element_type(std::string_view name);
bool is_floating(ElementType type);  // float, double, float16, bfloat16
// Product of the dims; throws Error on a negative dim or an overflowing product.
std::size_t element_count(const Shape& shape);
// "[1,3,224,224]"; a shape of more than 8 dims shows its first 3 and its rank: "[1,1,1,… 10000 dims]".
std::string shape_to_string(const Shape& shape);

// Half-precision conversions (IEEE 754 binary16 and bfloat16), round to nearest even.
float half_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_bfloat16(float value);

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor (empty strings for String).
  Tensor(ElementType type, Shape shape);
  static Tensor from_strings(Shape shape, std::vector<std::string> values);
  // A read-only view of memory that `owner` keeps alive (an item's rows in a memory-mapped array): no
  // copy is made. Reading the tensor reads that memory; the first write access (a non-const accessor)
  // copies it into storage of the tensor's own, so a view is never written through. Copies of a view
  // are views of the same memory. Numeric and bool types only (bools must be 0 or 1 there).
  static Tensor view(ElementType type, Shape shape, const std::byte* data, std::shared_ptr<const void> owner);

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  ~Tensor() = default;

  [[nodiscard]] ElementType element_type() const { return type_; }
  [[nodiscard]] const Shape& shape() const { return shape_; }
  [[nodiscard]] std::size_t element_count() const { return count_; }
  [[nodiscard]] std::size_t byte_size() const { return count_ * element_size(type_); }

  [[nodiscard]] bool is_view() const { return owner_ != nullptr; }

  // Raw storage of numeric and bool tensors (bool: one byte per element, 0 or 1). 64-byte aligned,
  // except a view's (where its memory is).
  [[nodiscard]] std::span<std::byte> bytes() { return {writable(), byte_size()}; }
  [[nodiscard]] std::span<const std::byte> bytes() const { return {storage(), byte_size()}; }
  [[nodiscard]] void* raw_data() { return writable(); }
  [[nodiscard]] const void* raw_data() const { return storage(); }

  // Typed view; T's size must match the element size (e.g. std::uint16_t for float16). Throws Error.
  template <class T>
  [[nodiscard]] std::span<T> data() {
    check_view(sizeof(T));
    return {reinterpret_cast<T*>(writable()), count_};
  }
  template <class T>
  [[nodiscard]] std::span<const T> data() const {
    check_view(sizeof(T));
    return {reinterpret_cast<const T*>(storage()), count_};
  }

  [[nodiscard]] std::vector<std::string>& strings() { return strings_; }
  [[nodiscard]] const std::vector<std::string>& strings() const { return strings_; }

  // Element i as double (numeric and bool only), for comparisons and printing.
  [[nodiscard]] double value_as_double(std::size_t i) const;

  // Same element type, shape and contents (bitwise for numbers).
  friend bool operator==(const Tensor& a, const Tensor& b);

 private:
  struct AlignedDelete {
    void operator()(std::byte* p) const;
  };
  void check_view(std::size_t size) const;
  // A view is told by its owner (a moved-from view has none, as a moved-from tensor has no storage).
  [[nodiscard]] const std::byte* storage() const { return owner_ != nullptr ? view_ : data_.get(); }
  std::byte* writable() {
    if (owner_ != nullptr) own();
    return data_.get();
  }
  void own();  // a view's memory copied into storage of its own; no longer a view

  ElementType type_ = ElementType::Undefined;
  Shape shape_;
  std::size_t count_ = 0;
  std::unique_ptr<std::byte[], AlignedDelete> data_;
  std::vector<std::string> strings_;
  const std::byte* view_ = nullptr;    // a view's memory (data_ is then empty), valid while owner_ is set
  std::shared_ptr<const void> owner_;  // keeps a view's memory alive; set only for a view
};

// A named tensor: an input or output of a model.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};
// The inputs (or outputs) of one item, in the model's order.
using TensorSet = std::vector<NamedTensor>;

// Result of comparing an actual tensor with an expected one.
struct Comparison {
  bool equal = false;          // element type and shape match and every element is within tolerance
  std::string problem;         // why not, when not (type, shape, or first element out of tolerance)
  double max_abs_error = 0.0;  // over all elements
  double max_rel_error = 0.0;  // |a-e| / |e|, over elements with e != 0
  std::size_t mismatches = 0;  // elements out of tolerance
};
// |actual - expected| <= atol + rtol * |expected| per element for floating types (NaN equals NaN);
// exact for integers, bool and strings.
Comparison compare(const Tensor& expected, const Tensor& actual, double rtol = 1e-5, double atol = 1e-6);

// Whether the tensors stack along their first dim: one element type, one rank >= 1, equal dims past the
// first. What concat_first_dim requires.
[[nodiscard]] bool can_concat_first_dim(std::span<const Tensor* const> parts);
// Stacks tensors of one type and equal shape [d0, d1...] into [sum of d0, d1...] along the first dim.
// Throws Error naming the two shapes when can_concat_first_dim is false.
Tensor concat_first_dim(std::span<const Tensor* const> parts);
// Splits along the first dim into pieces of the given first-dim sizes (sum must equal dim 0).
std::vector<Tensor> split_first_dim(const Tensor& whole, std::span<const std::int64_t> sizes);

}  // namespace onnxpool
