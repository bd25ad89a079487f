#include "onnxpool/runtime.hpp"

namespace onnxpool {

Runtime::Runtime(const std::string& log_id) : env_(ORT_LOGGING_LEVEL_WARNING, log_id.c_str()) {}

std::string Runtime::version() { return Ort::GetVersionString(); }

std::vector<std::string> Runtime::available_providers() { return Ort::GetAvailableProviders(); }

}  // namespace onnxpool
