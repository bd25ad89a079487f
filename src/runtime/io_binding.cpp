#include "runtime/io_binding.hpp"

#include <utility>

#include "onnxpool/tensor/ort_value.hpp"

namespace onnxpool {
namespace {

// Unbinds everything when a run is over, whether it succeeded or threw: the binding must neither keep
// the caller's buffers (views of an item that may be gone by the next run) nor hold the last outputs.
class Unbind {
 public:
  explicit Unbind(Ort::IoBinding& binding) : binding_(binding) {}
  Unbind(const Unbind&) = delete;
  Unbind& operator=(const Unbind&) = delete;
  Unbind(Unbind&&) = delete;
  Unbind& operator=(Unbind&&) = delete;
  ~Unbind() {
    binding_.ClearBoundInputs();  // C API calls that return nothing: they cannot throw
    binding_.ClearBoundOutputs();
  }

 private:
  Ort::IoBinding& binding_;
};

// Outputs that can go to pinned memory: tensors of numbers. Strings stay in ordinary CPU memory, since
// ONNX Runtime builds them with std::string there and copies to other memory byte by byte.
bool numeric_tensor_output(const Ort::Session& session, std::size_t output) {
  const auto type = session.GetOutputTypeInfo(output);
  return type.GetONNXType() == ONNX_TYPE_TENSOR &&
         type.GetTensorTypeAndShapeInfo().GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
}

}  // namespace

BoundRunner::BoundRunner(Ort::Session& session, std::vector<std::string> input_names,
                         std::vector<std::string> output_names, const DeviceSpec& device)
    : session_(&session),
      input_names_(std::move(input_names)),
      output_names_(std::move(output_names)),
      binding_(session),
      host_memory_(Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault)) {
  if (device.kind == DeviceKind::Cuda) {
    // The CUDA provider gives its sessions an allocator of pinned host memory; binding outputs there lets
    // the final device-to-host copy go straight by DMA. Asking the session for that allocator is the
    // same lookup the run makes for the outputs, so when it fails here ordinary CPU memory is used.
    Ort::MemoryInfo pinned("CudaPinned", OrtDeviceAllocator, device.index, OrtMemTypeCPUOutput);
    try {
      const Ort::Allocator probe(session, pinned);
      pinned_memory_ = std::move(pinned);
      pinned_ = true;
    } catch (const Ort::Exception&) {
      pinned_ = false;
    }
  }
  for (std::size_t i = 0; i < output_names_.size(); ++i) {
    const bool pinned = pinned_ && numeric_tensor_output(session, i);
    output_memory_.push_back(pinned ? static_cast<const OrtMemoryInfo*>(pinned_memory_)
                                    : static_cast<const OrtMemoryInfo*>(host_memory_));
  }
}

void BoundRunner::bind_inputs(std::span<const Ort::Value> inputs) {
  // A host value bound to an input the session reads from the GPU is copied there by ONNX Runtime; a
  // value already in GPU memory is used in place.
  for (std::size_t i = 0; i < inputs.size(); ++i) binding_.BindInput(input_names_[i].c_str(), inputs[i]);
}

TensorSet BoundRunner::run(std::span<const Ort::Value> inputs) {
  const Unbind unbind(binding_);
  bind_inputs(inputs);
  for (std::size_t i = 0; i < output_names_.size(); ++i) {
    binding_.BindOutput(output_names_[i].c_str(), output_memory_[i]);
  }
  session_->Run(Ort::RunOptions{nullptr}, binding_);
  // Run waits for the device, so the outputs are complete in host memory here.
  const auto values = binding_.GetOutputValues();
  TensorSet result;
  result.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) result.push_back({output_names_[i], from_ort_value(values[i])});
  return result;
}

void BoundRunner::run_into(std::span<const Ort::Value> inputs, std::span<Ort::Value> outputs) {
  const Unbind unbind(binding_);
  bind_inputs(inputs);
  for (std::size_t i = 0; i < outputs.size(); ++i) binding_.BindOutput(output_names_[i].c_str(), outputs[i]);
  session_->Run(Ort::RunOptions{nullptr}, binding_);
}

}  // namespace onnxpool
