#pragma once
// A worker's session run through one Ort::IoBinding: inputs bound by name from values wherever they are
// (host views, or copies already in the GPU's memory), outputs bound to host memory that the session's
// own allocator provides: CUDA pinned memory on a CUDA worker (so the device-to-host copy is a DMA that
// needs no staging), ordinary CPU memory otherwise.
#include <span>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "onnxpool/runtime/device.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class BoundRunner {
 public:
  // `input_names` and `output_names` are the session's, in its order. Throws Ort::Exception.
  BoundRunner(Ort::Session& session, std::vector<std::string> input_names, std::vector<std::string> output_names,
              const DeviceSpec& device);
  BoundRunner(const BoundRunner&) = delete;
  BoundRunner& operator=(const BoundRunner&) = delete;
  BoundRunner(BoundRunner&&) = delete;
  BoundRunner& operator=(BoundRunner&&) = delete;
  ~BoundRunner() = default;

  // One run with `inputs` (one per input, in order); the outputs copied into Tensors, in output order.
  // Throws Ort::Exception (ONNX Runtime's failure) or Error (an output that is not a tensor).
  TensorSet run(std::span<const Ort::Value> inputs);
  // One run writing into `outputs` (one per output, in order): the session fills those buffers, copying
  // from the device where it computed there. Counts must match (the caller checks). Throws Ort::Exception.
  void run_into(std::span<const Ort::Value> inputs, std::span<Ort::Value> outputs);

  // Whether outputs of run() land in CUDA pinned memory.
  [[nodiscard]] bool pinned_outputs() const { return pinned_; }

 private:
  void bind_inputs(std::span<const Ort::Value> inputs);

  Ort::Session* session_;  // the worker's, which owns this runner
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
  // One binding reused for every run: a worker runs on one thread at a time, and every run unbinds all
  // on its way out, so no run sees another's values.
  Ort::IoBinding binding_;
  Ort::MemoryInfo host_memory_;
  Ort::MemoryInfo pinned_memory_{nullptr};
  bool pinned_ = false;
  std::vector<const OrtMemoryInfo*> output_memory_;  // per output: host_memory_ or pinned_memory_
};

}  // namespace onnxpool
