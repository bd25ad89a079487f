#pragma once
// Copies of a CUDA worker's input values into its GPU's memory, made through ONNX Runtime alone: no CUDA
// header, no link against CUDA, so the library builds and runs where CUDA is absent.
//
// The route (ONNX Runtime 1.23+): the environment's shared allocator for the GPU's memory allocates the
// device tensor, and Ort::Env::CopyTensors copies the host tensor into it. Both come from an execution
// provider library registered with the environment (RegisterExecutionProviderLibrary), not from a
// session's provider: a session made with AppendExecutionProvider_CUDA_V2 keeps its allocators and its
// data transfer to itself. The CUDA provider library that sessions already load
// (libonnxruntime_providers_cuda.so) exports CreateEpFactories, and its factory provides the shared
// allocators and the data transfer (onnxruntime/core/providers/cuda/cuda_provider_factory.cc; ONNX
// Runtime's own test, onnxruntime/test/shared_lib/test_data_copy.cc, registers it for exactly this).
// So the first time a CUDA worker needs device copies, that library is registered with its environment
// (unless some library already lists CUDA devices there), and sessions keep the classic provider. Everything that can
// go wrong on that route (no device listed by the library, no allocator, a failing copy) leaves the inputs in host
// memory, which ONNX Runtime copies to the GPU on each run: slower, never wrong.
#include <span>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace onnxpool {

struct GpuSupport;

class DeviceInputs {
 public:
  // No input goes to a device (CPU workers).
  DeviceInputs() = default;
  // For a session on a CUDA GPU: which of its inputs it reads from GPU memory, and the environment's
  // allocator for that memory, checked with one small copy. Never throws for a missing route: problem()
  // then says why the inputs stay in host memory. `input_names` are the session's, in its order.
  DeviceInputs(Ort::Env& env, const Ort::Session& session, const GpuSupport& gpu,
               const std::vector<std::string>& input_names);

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
