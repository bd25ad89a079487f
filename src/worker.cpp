#include "onnxpool/worker.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "device_inputs.hpp"
#include "io_binding.hpp"
#include "onnxpool/cpu.hpp"
#include "onnxpool/gpu.hpp"
#include "onnxpool/ort_value.hpp"
#include "onnxpool/runtime.hpp"
#include "onnxpool/shared_weights.hpp"
#include "ort_error.hpp"

namespace onnxpool {
namespace {

// A CUDA worker: ONNX Runtime's CUDA provider on the chosen GPU, one session (so one stream) per worker.
// The provider comes in as an execution provider library registered with the environment (see
// Runtime::cuda_devices for why not the classic CUDA options); the session takes the GPU's EP device,
// whose options carry its CUDA ordinal.
void append_cuda(Ort::SessionOptions& so, Runtime& runtime, const GpuSupport& gpu, int device_id) {
  const auto devices = runtime.cuda_devices(gpu.provider);
  if (static_cast<std::size_t>(device_id) >= devices.size()) {
    throw Error(devices.empty()
                    ? fmt::format("ONNX Runtime's CUDA provider offers no device (the driver lists {} GPU{})",
                                  gpu.gpus.size(), gpu.gpus.size() == 1 ? "" : "s")
                    : fmt::format("ONNX Runtime's CUDA provider offers {} device{}, so no cuda:{}", devices.size(),
                                  devices.size() == 1 ? "" : "s", device_id));
  }
  so.AppendExecutionProvider_V2(runtime.env(), {devices[static_cast<std::size_t>(device_id)]},
                                std::unordered_map<std::string, std::string>{});
}

Ort::SessionOptions session_options(const WorkerOptions& options) {
  Ort::SessionOptions so;
  if (options.ort_defaults) return so;  // exactly what a default InferenceSession gets
  so.SetGraphOptimizationLevel(options.optimization);
  so.SetIntraOpNumThreads(options.intra_op_threads);
  so.SetInterOpNumThreads(1);
  so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  so.AddConfigEntry("session.intra_op.allow_spinning", options.allow_spinning ? "1" : "0");
  so.AddConfigEntry("session.inter_op.allow_spinning", "0");
  // The memory pattern pre-plans one block per session for all intermediate tensors at once, sized
  // up to the arena's next power of two: ~15 MB per MobileNetV2 worker. Without it tensors come from
  // the arena as they live and die: W=4 workers' peak RSS fell from 1.58x to 1.39x one worker's, at
  // the same throughput (bench/results).
  so.DisableMemPattern();
  if (!options.cores.empty()) {
    const auto affinities = ort_thread_affinities(options.cores, options.intra_op_threads);
    if (!affinities.empty()) so.AddConfigEntry("session.intra_op_thread_affinities", affinities.c_str());
  }
  return so;
}

// The tensor an item gives for a model input; Error naming it when the item lacks it.
const Tensor& input_of(const TensorSet& item, const std::string& name) {
  const auto found = std::find_if(item.begin(), item.end(), [&](const NamedTensor& t) { return t.name == name; });
  if (found == item.end()) throw Error(fmt::format("input '{}' is missing", name));
  return found->tensor;
}

// Error("<count> <what> values given, the model has <n> <what>s (<names>)") when the counts differ.
void check_count(std::size_t given, const std::vector<std::string>& names, const char* what) {
  if (given == names.size()) return;
  throw Error(fmt::format("{} {} value{} given, the model has {} {}{} ({})", given, what, given == 1 ? "" : "s",
                          names.size(), what, names.size() == 1 ? "" : "s", fmt::join(names, ", ")));
}

// Runs `call` with the worker named in front of any Error or ONNX Runtime exception, for calls the
// caller makes directly (the pool's scheduler names the worker of run() itself).
template <class Call>
auto in_worker(const std::string& worker, Call&& call) -> decltype(call()) {
  return with_context("worker " + worker, [&] { return guard_ort("ONNX Runtime", std::forward<Call>(call)); });
}

}  // namespace

Worker::Worker(Runtime& runtime, const std::filesystem::path& model, WorkerOptions options, std::string name)
    : name_(std::move(name)), options_(std::move(options)), runtime_(&runtime) {
  const std::string context = fmt::format("worker {} ({})", name_, model.filename().string());
  const bool cuda = options_.device.kind == DeviceKind::Cuda;
  if (cuda) {
    if (!options_.gpu) options_.gpu = std::make_shared<const GpuSupport>(probe_gpu());
    require_gpu(*options_.gpu, options_.device.index, context);
  }
  if (!options_.ort_defaults && options_.intra_op_threads < 1) {
    throw Error(fmt::format("{}: intra-op threads must be >= 1, not {}", context, options_.intra_op_threads));
  }
  auto so = guard_ort(context, [&] { return session_options(options_); });
  if (cuda) with_context(context, [&] { append_cuda(so, runtime, *options_.gpu, options_.device.index); });
  const auto& source = options_.shared_weights ? options_.shared_weights->optimized_model() : model;
  if (options_.shared_weights) options_.shared_weights->apply(so);
  session_ = guard_ort(context, [&] {
    return options_.share_prepacked_weights
               ? Ort::Session(runtime.env(), source.c_str(), so, runtime.prepacked_weights())
               : Ort::Session(runtime.env(), source.c_str(), so);
  });
  Ort::AllocatorWithDefaultOptions allocator;
  for (std::size_t i = 0; i < session_.GetInputCount(); ++i) {
    input_names_.emplace_back(session_.GetInputNameAllocated(i, allocator).get());
  }
  for (std::size_t i = 0; i < session_.GetOutputCount(); ++i) {
    output_names_.emplace_back(session_.GetOutputNameAllocated(i, allocator).get());
  }
  for (const auto& n : input_names_) input_name_ptrs_.push_back(n.c_str());
  for (const auto& n : output_names_) output_name_ptrs_.push_back(n.c_str());
  // A CUDA session always binds, so that its outputs land in pinned host memory from the session's own
  // allocator; CPU workers bind when asked (to measure the same path on CPU).
  if (cuda || options_.io_binding) {
    binding_ = guard_ort(
        context, [&] { return std::make_unique<BoundRunner>(session_, input_names_, output_names_, options_.device); });
  }
}

DeviceInputs* Worker::device_inputs() const {
  // Prepared at first use rather than with the session: preparing looks up the GPU's shared allocator
  // and makes a trial copy, which workers that never use the OrtValue path (a pool's run()) have no
  // need of. A worker is used by one thread at a time, so no lock.
  if (options_.device.kind != DeviceKind::Cuda) return nullptr;
  if (!device_inputs_) {
    device_inputs_ = std::make_unique<DeviceInputs>(runtime_->env(), session_, input_names_);
  }
  return device_inputs_.get();
}

Worker::~Worker() = default;

void Worker::bind_current_thread() const {
  if (!options_.cores.empty()) pin_current_thread({options_.cores.front()});
}

std::vector<Ort::Value> Worker::bind_inputs(const TensorSet& inputs, std::vector<const char*>& names) const {
  std::vector<Ort::Value> values;
  values.reserve(input_names_.size());
  names.clear();
  for (const auto& wanted : input_names_) {
    values.push_back(to_ort_value(input_of(inputs, wanted)));
    names.push_back(wanted.c_str());
  }
  for (const auto& given : inputs) {
    if (std::find(input_names_.begin(), input_names_.end(), given.name) == input_names_.end()) {
      throw Error(fmt::format("the model has no input '{}'", given.name));
    }
  }
  return values;
}

TensorSet Worker::run(const TensorSet& inputs) {
  std::vector<const char*> names;
  auto values = bind_inputs(inputs, names);
  if (binding_) return guard_ort("ONNX Runtime", [&] { return binding_->run(values); });
  auto outputs = guard_ort("ONNX Runtime", [&] {
    return session_.Run(Ort::RunOptions{nullptr}, names.data(), values.data(), values.size(), output_name_ptrs_.data(),
                        output_name_ptrs_.size());
  });
  TensorSet result;
  result.reserve(outputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) result.push_back({output_names_[i], from_ort_value(outputs[i])});
  return result;
}

std::vector<TensorSet> Worker::run_batch(std::span<const TensorSet* const> items) {
  std::vector<TensorSet> results;
  if (items.empty()) return results;
  if (items.size() == 1) {
    results.push_back(run(*items.front()));  // moved in: a braced list would copy the outputs
    return results;
  }
  // Stack each input across the items, in the model's input order.
  TensorSet stacked;
  std::vector<std::int64_t> sizes;
  for (const auto& wanted : input_names_) {
    std::vector<const Tensor*> parts;
    for (const TensorSet* item : items) parts.push_back(&input_of(*item, wanted));
    if (sizes.empty()) {
      for (const Tensor* part : parts) {
        if (part->shape().empty()) throw Error(fmt::format("input '{}' is a scalar: items cannot be batched", wanted));
        sizes.push_back(part->shape().front());
      }
    }
    stacked.push_back({wanted, concat_first_dim(parts)});
  }
  const TensorSet outputs = run(stacked);
  results.resize(items.size());
  for (const auto& output : outputs) {
    if (output.tensor.shape().empty() || output.tensor.shape().front() != stacked.front().tensor.shape().front()) {
      throw Error(fmt::format("output '{}' of shape {} does not have the batch as its first dim", output.name,
                              shape_to_string(output.tensor.shape())));
    }
    auto pieces = split_first_dim(output.tensor, sizes);
    for (std::size_t i = 0; i < items.size(); ++i) results[i].push_back({output.name, std::move(pieces[i])});
  }
  return results;
}

std::vector<Ort::Value> Worker::run_values(std::span<const Ort::Value> inputs) {
  check_count(inputs.size(), input_names_, "input");
  return guard_ort("ONNX Runtime", [&] {
    return session_.Run(Ort::RunOptions{nullptr}, input_name_ptrs_.data(), inputs.data(), inputs.size(),
                        output_name_ptrs_.data(), output_name_ptrs_.size());
  });
}

std::vector<Ort::Value> Worker::resident_inputs(const TensorSet& item) {
  std::vector<const char*> names;
  auto values = in_worker(name_, [&] { return bind_inputs(item, names); });
  DeviceInputs* device = device_inputs();
  if (device != nullptr && device->available()) {
    try {
      device->copy_to_device(values);
    } catch (const Error& e) {
      // Host values keep the results right (the session copies them to the GPU on each run); the
      // worker stops trying, and inputs_on_device() turns false so a measurement can say so.
      device->disable(e.what());
    }
  }
  return values;
}

bool Worker::inputs_on_device() const {
  const DeviceInputs* device = device_inputs();
  return device != nullptr && device->available();
}

std::string Worker::inputs_on_host_reason() const {
  const DeviceInputs* device = device_inputs();
  return device != nullptr ? device->problem() : std::string{};
}

void Worker::run_values_into(std::span<const Ort::Value> inputs, std::span<Ort::Value> outputs) {
  in_worker(name_, [&] {
    check_count(inputs.size(), input_names_, "input");
    check_count(outputs.size(), output_names_, "output");
    if (binding_) {
      binding_->run_into(inputs, outputs);
    } else {
      session_.Run(Ort::RunOptions{nullptr}, input_name_ptrs_.data(), inputs.data(), inputs.size(),
                   output_name_ptrs_.data(), outputs.data(), outputs.size());
    }
  });
}

}  // namespace onnxpool
