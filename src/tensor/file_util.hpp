#pragma once
// Internal helpers shared by the tensor file readers and writers (npy.cpp, tensor_pb.cpp).
#include <cstddef>
#include <string>
#include <string_view>

#include "common/os_reason.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool::detail {

// element_count(shape), with the source named in the Error (negative dims, overflowing products).
std::size_t checked_element_count(const Shape& shape, std::string_view source);

// count * element size of type, with the source named in the Error when the product overflows.
std::size_t checked_byte_size(std::size_t count, ElementType type, const Shape& shape, std::string_view source);

// "float32 values", for messages that count elements.
std::string count_phrase(std::size_t count, ElementType type);

}  // namespace onnxpool::detail
