// ONNX TensorProto files (.pb: test-data folders' input_K.pb and output_K.pb, --input NAME=FILE.pb),
// parsed by Debian's protobuf and checked by parse_tensor_pb: raw_data and every typed field, sizes
// against dims, ranges of narrowed values. A parsed tensor must re-encode to the same tensor.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_contract.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

using onnxpool::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  onnxpool::fuzz::expect_error_or_success([&] {
    const onnxpool::NamedTensor named = onnxpool::parse_tensor_pb(bytes, "fuzz.pb");
    const onnxpool::Tensor& tensor = named.tensor;
    onnxpool::fuzz::require_consistent(tensor);
    const onnxpool::NamedTensor again = onnxpool::parse_tensor_pb(onnxpool::encode_tensor_pb(named), "round trip");
    require(again.name == named.name && again.tensor == tensor, "encode_tensor_pb round trip");
  });
  return 0;
}
