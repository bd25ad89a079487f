#pragma once
// Runtime: the ONNX Runtime environment shared by every worker of a process, and what workers of one
// model share (pre-packed weights). Made once by the application and passed down: no global state.
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace onnxpool {

class Runtime {
 public:
  // `log_id` names the environment in ONNX Runtime's logs; messages at `log_level` and above are
  // printed to stderr by ONNX Runtime (a failing kernel logs at ERROR before its error reaches us).
  // ONNX Runtime's telemetry is turned off (ORT_DISABLE_TELEMETRY=1) unless the environment variable
  // was set by the user: see runtime.cpp for why.
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

  // ONNX Runtime's CUDA provider, registered with this environment as an execution provider library
  // (once: later calls reuse it), and the CUDA devices it offers, in CUDA ordinal order (index K is
  // cuda:K). This is the only way CUDA reaches sessions here: the core library is ONNX Runtime's CPU
  // build, whose classic CUDA entry points answer "CUDA execution provider is not enabled in this
  // build"; the provider library plugs in through RegisterExecutionProviderLibrary and sessions take
  // its devices with AppendExecutionProvider_V2. Registration also gives the environment the GPU's
  // shared allocators and data transfer (device-resident inputs). Throws Error with ONNX Runtime's
  // reason when the library cannot be registered (it remembers the failure).
  std::vector<Ort::ConstEpDevice> cuda_devices(const std::filesystem::path& provider_library);

 private:
  Ort::Env env_;
  Ort::PrepackedWeightsContainer prepacked_;
  std::mutex cuda_mutex_;  // workers of several pools may be made on several threads
  bool cuda_registered_ = false;
  std::string cuda_failure_;  // why registration failed, once it has
};

}  // namespace onnxpool
