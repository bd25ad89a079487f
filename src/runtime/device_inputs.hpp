#pragma once
// Copies of a CUDA worker's input values into its GPU's memory, made through ONNX Runtime alone: no CUDA
// header, no link against CUDA, so the library builds and runs where CUDA is absent.
//
// The route (ONNX Runtime 1.23+): the environment's shared allocator for the GPU's memory allocates the
// device tensor, and Ort::Env::CopyTensors copies the host tensor into it. Both come from the CUDA
// provider library registered with the environment (Runtime::cuda_devices, which every CUDA worker's
// session goes through), as ONNX Runtime's own test of device copies does
// (onnxruntime/test/shared_lib/test_data_copy.cc). Everything that can go wrong on that route (no
// allocator, a failing copy) leaves the inputs in host memory, which ONNX Runtime copies to the GPU on
// each run: slower, never wrong.
#include <span>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace onnxpool {

class DeviceInputs {
 public:
  // No input goes to a device (CPU workers).
  DeviceInputs() = default;
  // For a session on a CUDA GPU: which of its inputs it reads from GPU memory, and the environment's
  // allocator for that memory, checked with one small copy. Never throws for a missing route: problem()
  // then says why the inputs stay in host memory. `input_names` are the session's, in its order.
  DeviceInputs(Ort::Env& env, const Ort::Session& session, const std::vector<std::string>& input_names);

  // True when copy_to_device() puts at least one input in GPU memory.
  [[nodiscard]] bool available() const { return !allocators_.empty(); }
  // Why no input goes to the GPU, in a phrase; empty when some do (or on a CPU worker).
  [[nodiscard]] const std::string& problem() const { return problem_; }

  // Replaces, in `values` (one per input, in the session's order), the values of inputs the session
  // reads from GPU memory by copies there, owned by the new values (the Runtime's environment must
  // outlive them). The copy is complete when this returns. Throws Error naming the input, with ONNX
  // Runtime's message; `values` is then unchanged.
  void copy_to_device(std::vector<Ort::Value>& values) const;

  // Stops copying (after a failed copy), keeping `why` for problem().
  void disable(std::string why);

 private:
  const Ort::Env* env_ = nullptr;
  std::vector<std::string> names_;
  std::vector<OrtAllocator*> allocators_;  // per input: the GPU memory's shared allocator, or null (host)
  std::string problem_;
};

}  // namespace onnxpool
