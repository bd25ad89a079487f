// .npy files (tensor_io.hpp): parse_npy_layout, what a memory-mapped --data array is read with, and
// parse_npy, what --input and test-data folders use; every dtype, byte order, version, and unicode
// ('<U n') elements through iconv. A parsed tensor must re-encode to a file that parses to the same
// tensor.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_contract.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

using onnxpool::ElementType;
using onnxpool::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const std::string source = "fuzz.npy";

  onnxpool::fuzz::expect_error_or_success([&] {
    const onnxpool::NpyLayout layout = onnxpool::parse_npy_layout(bytes, source);
    const std::size_t count = onnxpool::element_count(layout.shape);
    const std::size_t element_bytes =
        layout.type == ElementType::String ? 4 * layout.string_width : onnxpool::element_size(layout.type);
    // The data lies within the input and fills it: trailing bytes are refused.
    require(layout.data_offset <= size, "the data starts within the file");
    require(count * element_bytes == size - layout.data_offset, "the data is exactly what the header declares");
  });

  onnxpool::fuzz::expect_error_or_success([&] {
    const onnxpool::Tensor tensor = onnxpool::parse_npy(bytes, source);
    onnxpool::fuzz::require_consistent(tensor);
    if (tensor.element_type() == ElementType::Bool) {
      for (const std::byte b : tensor.bytes()) require(b == std::byte{0} || b == std::byte{1}, "bools are 0 or 1");
    }
    // What was read is what np.save would write back: the round trip keeps every element.
    const std::vector<std::byte> again = onnxpool::encode_npy(tensor);
    require(onnxpool::parse_npy(again, "round trip") == tensor, "encode_npy round trip");
  });
  return 0;
}
