#pragma once
// An item made ready, before any timing, for the worker that will run it: the tutorial's OrtValue path.
// Its inputs are ONNX Runtime values where that worker's session reads them (zero-copy views of the
// item's tensors on a CPU worker; copies in the GPU's memory on a CUDA worker, made once so that
// repeated runs copy nothing from the host), and its outputs are pre-allocated (their shapes learnt from
// one untimed run per distinct input shapes) and bound as views, so a run neither converts nor copies
// inputs, nor allocates outputs. Made by Worker::prepare, run by Worker::run(PreparedItem&).
#include <span>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class PreparedItem {
 public:
  PreparedItem() = default;

  // Whether the inputs live in the GPU's memory (a CUDA worker whose device copy worked).
  [[nodiscard]] bool inputs_on_device() const { return on_device_; }
  // Why a CUDA worker's inputs stay in host memory, in a phrase; empty otherwise. Results stay right
  // then: the session copies them on each run.
  [[nodiscard]] const std::string& host_reason() const { return host_reason_; }
  // The name of the worker it was made for: only that worker may run it when its inputs are on a device.
  [[nodiscard]] const std::string& worker() const { return worker_; }
  // The input values, in the session's input order: where they live (GetTensorMemoryInfo), what they
  // point at.
  [[nodiscard]] std::span<const Ort::Value> input_values() const { return inputs_; }
  // A copy of the outputs of the last run, in the model's output order (the item keeps its buffers for
  // the next run).
  [[nodiscard]] TensorSet outputs() const;

 private:
  friend class Worker;
  std::string worker_;
  std::vector<std::string> output_names_;
  std::vector<Ort::Value> inputs_;         // in the session's input order
  std::vector<Tensor> outputs_;            // pre-allocated host outputs
  std::vector<Ort::Value> output_values_;  // views of outputs_; empty: ONNX Runtime allocates (strings)
  std::vector<Ort::Value> allocated_;      // what ONNX Runtime allocated, when not pre-allocated
  bool on_device_ = false;
  std::string host_reason_;
};

}  // namespace onnxpool
