#pragma once
// Bridges between Tensor and ONNX Runtime's Ort::Value.
#include <onnxruntime_cxx_api.h>

#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

// A view of the tensor's buffer for ONNX Runtime, without copying (numeric and bool tensors); the
// tensor must outlive the value. String tensors are copied into an ONNX Runtime-owned value, since
// ONNX Runtime keeps strings in its own layout.
Ort::Value to_ort_value(Tensor& tensor);
Ort::Value to_ort_value(const Tensor& tensor);  // same; ONNX Runtime only reads inputs

// A copy of an ONNX Runtime tensor value into an owning Tensor.
Tensor from_ort_value(const Ort::Value& value);

}  // namespace onnxpool
