#include "runtime/device_inputs.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "common/ort_error.hpp"
#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

std::string memory_name(Ort::ConstMemoryInfo memory) {
  return fmt::format("'{}' memory of GPU {}", memory.GetAllocatorName(), memory.GetDeviceId());
}

// Strings (and non-tensor values) never live in GPU memory: ONNX Runtime keeps them for CPU kernels.
bool device_capable(const Ort::Session& session, std::size_t input) {
  const auto type = session.GetInputTypeInfo(input);
  return type.GetONNXType() == ONNX_TYPE_TENSOR &&
         type.GetTensorTypeAndShapeInfo().GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
}

// The environment's shared allocator for `memory`: the CUDA provider library, registered with the
// environment before the worker's session was made (Runtime::cuda_devices), provides it. Null, with
// `problem` saying why, when there is none.
OrtAllocator* shared_allocator(Ort::Env& env, Ort::ConstMemoryInfo memory, std::string& problem) {
  if (OrtAllocator* found = env.GetSharedAllocator(memory); found != nullptr) return found;
  problem = fmt::format("ONNX Runtime's environment has no shared allocator for {}", memory_name(memory));
  return nullptr;
}

// One float copied into memory from `allocator`: whether the environment can copy there at all (its data
// transfer comes with the registered library), found once rather than at the first item.
std::string check_copy(const Ort::Env& env, OrtAllocator* allocator) {
  std::array<float, 1> one{1.0F};
  const std::array<std::int64_t, 1> shape{1};
  const auto cpu = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
  const auto host = Ort::Value::CreateTensor<float>(cpu, one.data(), one.size(), shape.data(), shape.size());
  auto device = Ort::Value::CreateTensor(allocator, shape.data(), shape.size(), ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
  const Ort::Status status = env.CopyTensor(host, device, nullptr);
  if (status.IsOK()) return {};
  return fmt::format("ONNX Runtime's environment cannot copy into GPU memory: {}", one_line(status.GetErrorMessage()));
}

}  // namespace

DeviceInputs::DeviceInputs(Ort::Env& env, const Ort::Session& session, const std::vector<std::string>& input_names)
    : env_(&env), names_(input_names) {
  try {
    // Where the session reads each input once its graph is partitioned: GPU memory for inputs of CUDA
    // kernels, host memory for those of CPU kernels (shape inputs, strings).
    const auto locations = session.GetMemoryInfoForInputs();
    std::vector<OrtAllocator*> allocators(locations.size(), nullptr);
    OrtAllocator* some = nullptr;
    for (std::size_t i = 0; i < locations.size(); ++i) {
      if (locations[i].GetDeviceType() != OrtMemoryInfoDeviceType_GPU ||
          locations[i].GetDeviceMemoryType() != OrtDeviceMemoryType_DEFAULT || !device_capable(session, i)) {
        continue;
      }
      allocators[i] = shared_allocator(env, locations[i], problem_);
      if (allocators[i] == nullptr) return;
      some = allocators[i];
    }
    if (some == nullptr) {
      problem_ = "the session reads every input from host memory";
      return;
    }
    problem_ = check_copy(env, some);
    if (problem_.empty()) allocators_ = std::move(allocators);
  } catch (const Ort::Exception& e) {
    problem_ = one_line(e.what());
  }
}

void DeviceInputs::copy_to_device(std::vector<Ort::Value>& values) const {
  if (!available()) return;
  if (values.size() != allocators_.size()) {
    throw Error(fmt::format("{} input values given, the model has {} inputs", values.size(), allocators_.size()));
  }
  // Copies are made aside and swapped in only when all succeeded, so a failure leaves `values` usable.
  std::vector<Ort::Value> copies;
  std::vector<bool> copied(values.size(), false);
  copies.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    copies.emplace_back(nullptr);
    if (allocators_[i] == nullptr) continue;
    try {
      if (values[i].GetTensorMemoryInfo().GetDeviceType() == OrtMemoryInfoDeviceType_GPU) continue;  // there already
      const auto info = values[i].GetTensorTypeAndShapeInfo();
      const auto shape = info.GetShape();
      copies[i] = Ort::Value::CreateTensor(allocators_[i], shape.data(), shape.size(), info.GetElementType());
      if (info.GetElementCount() != 0) {
        // No stream: the provider's data transfer copies synchronously, so the copy is complete (and
        // visible to the session's own stream) when this returns: nothing to synchronise before a run.
        const Ort::Status status = env_->CopyTensor(values[i], copies[i], nullptr);
        if (!status.IsOK()) {
          throw Error(fmt::format("input '{}': copy into GPU memory failed: {}", names_[i],
                                  one_line(status.GetErrorMessage())));
        }
      }
    } catch (const Ort::Exception& e) {
      throw Error(fmt::format("input '{}': copy into GPU memory failed: {}", names_[i], one_line(e.what())));
    }
    copied[i] = true;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (copied[i]) values[i] = std::move(copies[i]);
  }
}

void DeviceInputs::disable(std::string why) {
  allocators_.clear();
  problem_ = std::move(why);
}

}  // namespace onnxpool
