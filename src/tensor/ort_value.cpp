#include "onnxpool/tensor/ort_value.hpp"

#include <cstring>

#include <fmt/format.h>

#include "common/ort_error.hpp"

namespace onnxpool {
Ort::Value to_ort_value(const Tensor& tensor) {
  const auto& shape = tensor.shape();
  const auto type = static_cast<ONNXTensorElementDataType>(tensor.element_type());
  if (tensor.element_type() == ElementType::String) {
    Ort::AllocatorWithDefaultOptions allocator;
    auto value = Ort::Value::CreateTensor(allocator, shape.data(), shape.size(), type);
    std::vector<const char*> pointers;
    pointers.reserve(tensor.strings().size());
    for (const auto& s : tensor.strings()) pointers.push_back(s.c_str());
    value.FillStringTensor(pointers.data(), pointers.size());
    return value;
  }
  // ONNX Runtime takes a mutable pointer but never writes to an input. The memory info is a small
  // descriptor; making one per call costs well under a microsecond and keeps no shared state.
  const auto memory = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
  return Ort::Value::CreateTensor(memory, const_cast<void*>(tensor.raw_data()), tensor.byte_size(), shape.data(),
                                  shape.size(), type);
}

Ort::Value to_ort_value(Tensor& tensor) {
  return to_ort_value(static_cast<const Tensor&>(tensor));
}

Tensor from_ort_value(const Ort::Value& value) {
  if (!value.IsTensor()) throw Error("an output is not a tensor (sequences and maps are not supported)");
  const auto info = value.GetTensorTypeAndShapeInfo();
  const auto type = static_cast<ElementType>(info.GetElementType());
  Tensor tensor(type, info.GetShape());
  if (type == ElementType::String) {
    for (std::size_t i = 0; i < tensor.element_count(); ++i) tensor.strings()[i] = value.GetStringTensorElement(i);
    return tensor;
  }
  if (tensor.byte_size() != 0) std::memcpy(tensor.raw_data(), value.GetTensorRawData(), tensor.byte_size());
  return tensor;
}

}  // namespace onnxpool
