#pragma once
// Runtime: the ONNX Runtime environment shared by every worker of a process, and what workers of one
// model share (pre-packed weights). Made once by the application and passed down: no global state.
#include <memory>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace onnxpool {

class Runtime {
 public:
  // `log_id` names the environment in ONNX Runtime's logs; messages at `log_level` and above are
  // printed to stderr by ONNX Runtime (a failing kernel logs at ERROR before its error reaches us).
  explicit Runtime(OrtLoggingLevel log_level = ORT_LOGGING_LEVEL_WARNING, const std::string& log_id = "onnxpool");
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  [[nodiscard]] Ort::Env& env() { return env_; }
  [[nodiscard]] const Ort::Env& env() const { return env_; }
  // Shared by all sessions created through this runtime, so W workers of one model keep one copy of
  // the weights ONNX Runtime pre-packs for its kernels (the MLAS GEMM/conv layouts).
  [[nodiscard]] Ort::PrepackedWeightsContainer& prepacked_weights() { return prepacked_; }

  [[nodiscard]] static std::string version();
  [[nodiscard]] static std::vector<std::string> available_providers();

 private:
  Ort::Env env_;
  Ort::PrepackedWeightsContainer prepacked_;
};

}  // namespace onnxpool
