#include "onnxpool/runtime.hpp"

namespace onnxpool {

Runtime::Runtime(OrtLoggingLevel log_level, const std::string& log_id) : env_(log_level, log_id.c_str()) {}

std::string Runtime::version() {
  return Ort::GetVersionString();
}

std::vector<std::string> Runtime::available_providers() {
  return Ort::GetAvailableProviders();
}

}  // namespace onnxpool
