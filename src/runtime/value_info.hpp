#pragma once
// Reading a model's values from ONNX Runtime's type info, shared by inspect_model and the Worker.

#include <optional>
#include <string>

#include <onnxruntime_cxx_api.h>

#include "onnxpool/runtime/model.hpp"

namespace onnxpool {

// The value's element type and shape, symbolic dims by name; nullopt when it is not a tensor (a
// sequence or a map).
std::optional<ValueInfo> tensor_value_info(const std::string& name, const Ort::TypeInfo& type);

}  // namespace onnxpool
