#include "onnxpool/runtime/worker.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/ort_error.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/gpu.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/shared_weights.hpp"
#include "onnxpool/tensor/ort_value.hpp"
#include "runtime/device_inputs.hpp"
#include "runtime/io_binding.hpp"
#include "runtime/value_info.hpp"
#include "runtime/yielding_threads.hpp"

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

Ort::SessionOptions session_options(const WorkerPlan& plan) {
  Ort::SessionOptions so;
  if (plan.ort_defaults) return so;  // exactly what a default InferenceSession gets
  so.SetGraphOptimizationLevel(plan.optimization);
  so.SetIntraOpNumThreads(plan.threads);
  so.SetInterOpNumThreads(1);
  so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  so.AddConfigEntry("session.intra_op.allow_spinning", plan.spinning ? "1" : "0");
  so.AddConfigEntry("session.inter_op.allow_spinning", "0");
  // The memory pattern pre-plans one block per session for all intermediate tensors at once, sized
  // up to the arena's next power of two: ~15 MB per MobileNetV2 worker. Without it tensors come from
  // the arena as they live and die: W=4 workers' peak RSS fell from 1.58x to 1.39x one worker's, at
  // the same throughput (bench/results). A worker that runs lone items keeps it: without it a
  // GPT-2-tiny item took 0.253 ms against a default session's 0.236 (docs/ROADMAP.md, issue 10).
  if (!plan.memory_pattern) so.DisableMemPattern();
  if (plan.give_way) give_way_intra_op_threads(so);
  if (!plan.cores.empty()) {
    const auto affinities = ort_thread_affinities(plan.cores, plan.threads);
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

Worker::Worker(Runtime& runtime, const std::filesystem::path& model, WorkerPlan plan, WorkerResources resources)
    : plan_(std::move(plan)), resources_(std::move(resources)), runtime_(&runtime) {
  const std::string context = fmt::format("worker {} ({})", plan_.name, model.filename().string());
  const bool cuda = plan_.device.kind == DeviceKind::Cuda;
  if (cuda) {
    if (!resources_.gpu) resources_.gpu = std::make_shared<const GpuSupport>(probe_gpu());
    require_gpu(*resources_.gpu, plan_.device.index, context);
  }
  if (!plan_.ort_defaults && plan_.threads < 1) {
    throw Error(fmt::format("{}: intra-op threads must be >= 1, not {}", context, plan_.threads));
  }
  if (plan_.batch < 1) throw Error(fmt::format("{}: batch must be >= 1", context));
  auto so = guard_ort(context, [&] { return session_options(plan_); });
  if (cuda) with_context(context, [&] { append_cuda(so, runtime, *resources_.gpu, plan_.device.index); });
  const auto& shared = resources_.shared_weights;
  const auto& source = shared ? shared->optimized_model() : model;
  if (shared) shared->apply(so);
  session_ = guard_ort(context, [&] {
    return plan_.share_prepacked_weights ? Ort::Session(runtime.env(), source.c_str(), so, runtime.prepacked_weights())
                                         : Ort::Session(runtime.env(), source.c_str(), so);
  });
  Ort::AllocatorWithDefaultOptions allocator;
  for (std::size_t i = 0; i < session_.GetInputCount(); ++i) {
    input_names_.emplace_back(session_.GetInputNameAllocated(i, allocator).get());
  }
  for (std::size_t i = 0; i < session_.GetOutputCount(); ++i) {
    output_names_.emplace_back(session_.GetOutputNameAllocated(i, allocator).get());
  }
  // ModelInfo::batchable's rule, read from this session (whose optimised graph is what runs); a value
  // that is not a tensor does not stack.
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  stackable_ = true;
  for (std::size_t i = 0; i < input_names_.size() && stackable_; ++i) {
    auto value = tensor_value_info(input_names_[i], session_.GetInputTypeInfo(i));
    stackable_ = value.has_value();
    if (value) inputs.push_back(std::move(*value));
  }
  for (std::size_t i = 0; i < output_names_.size() && stackable_; ++i) {
    auto value = tensor_value_info(output_names_[i], session_.GetOutputTypeInfo(i));
    stackable_ = value.has_value();
    if (value) outputs.push_back(std::move(*value));
  }
  stackable_ = stackable_ && batchable(inputs, outputs);
  for (const auto& n : input_names_) input_name_ptrs_.push_back(n.c_str());
  for (const auto& n : output_names_) output_name_ptrs_.push_back(n.c_str());
  // A CUDA session always binds, so that its outputs land in pinned host memory from the session's own
  // allocator; CPU workers bind when asked (to measure the same path on CPU).
  if (cuda || plan_.io_binding) {
    binding_ = guard_ort(
        context, [&] { return std::make_unique<BoundRunner>(session_, input_names_, output_names_, plan_.device); });
  }
}

DeviceInputs* Worker::device_inputs() {
  // Prepared at first use rather than with the session: preparing looks up the GPU's shared allocator
  // and makes a trial copy, which workers that never use the OrtValue path (a pool's run()) have no
  // need of. A worker is used by one thread at a time, so no lock.
  if (plan_.device.kind != DeviceKind::Cuda) return nullptr;
  if (!device_inputs_) {
    device_inputs_ = std::make_unique<DeviceInputs>(runtime_->env(), session_, input_names_);
  }
  return device_inputs_.get();
}

Worker::~Worker() = default;

void Worker::bind_current_thread() const {
  if (!plan_.cores.empty()) pin_current_thread({plan_.cores.front()});
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

TensorSet Worker::run_one(const TensorSet& inputs) {
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

TensorSet Worker::run(const TensorSet& item) {
  return run_one(item);
}

std::vector<TensorSet> Worker::run(std::span<const TensorSet* const> items) {
  std::vector<TensorSet> results;
  if (items.empty()) return results;
  if (items.size() == 1) {
    results.push_back(run_one(*items.front()));  // moved in: a braced list would copy the outputs
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
  const TensorSet outputs = run_one(stacked);
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

PreparedItem Worker::prepare(const TensorSet& item) {
  PreparedItem prepared;
  prepared.worker_ = plan_.name;
  prepared.output_names_ = output_names_;
  std::vector<const char*> names;
  prepared.inputs_ = in_worker(plan_.name, [&] { return bind_inputs(item, names); });
  if (DeviceInputs* device = device_inputs(); device != nullptr) {
    if (device->available()) {
      try {
        device->copy_to_device(prepared.inputs_);
      } catch (const Error& e) {
        // Host values keep the results right (the session copies them to the GPU on each run); the
        // worker stops trying, and the item says why its inputs stay on the host.
        device->disable(e.what());
      }
    }
    prepared.on_device_ = device->available();
    prepared.host_reason_ = device->problem();
  }

  std::vector<Shape> signature;
  for (const auto& value : prepared.inputs_) signature.push_back(value.GetTensorTypeAndShapeInfo().GetShape());
  auto known = output_layouts_.find(signature);
  if (known == output_layouts_.end()) {
    // One untimed run tells the output types and shapes for inputs of these shapes.
    std::vector<std::pair<ElementType, Shape>> layout;
    for (const auto& output : in_worker(plan_.name, [&] { return run_one(item); }))
      layout.emplace_back(output.tensor.element_type(), output.tensor.shape());
    known = output_layouts_.emplace(std::move(signature), std::move(layout)).first;
  }
  const bool strings = std::any_of(known->second.begin(), known->second.end(),
                                   [](const auto& l) { return l.first == ElementType::String; });
  if (strings) return prepared;  // ONNX Runtime keeps strings in its own layout: let it allocate them
  for (const auto& [type, shape] : known->second) prepared.outputs_.emplace_back(type, shape);
  for (Tensor& output : prepared.outputs_) prepared.output_values_.push_back(to_ort_value(output));
  return prepared;
}

void Worker::run(PreparedItem& item) {
  in_worker(plan_.name, [&] {
    check_count(item.inputs_.size(), input_names_, "input");
    if (item.output_values_.empty()) {
      item.allocated_ = session_.Run(Ort::RunOptions{nullptr}, input_name_ptrs_.data(), item.inputs_.data(),
                                     item.inputs_.size(), output_name_ptrs_.data(), output_name_ptrs_.size());
    } else if (binding_) {
      binding_->run_into(item.inputs_, item.output_values_);
    } else {
      // A run writing into the bound output buffers: the tutorial's run_with_ort_values with its outputs
      // given.
      session_.Run(Ort::RunOptions{nullptr}, input_name_ptrs_.data(), item.inputs_.data(), item.inputs_.size(),
                   output_name_ptrs_.data(), item.output_values_.data(), item.output_values_.size());
    }
  });
}

TensorSet PreparedItem::outputs() const {
  TensorSet set;
  for (std::size_t k = 0; k < output_names_.size(); ++k) {
    set.push_back({output_names_[k], output_values_.empty() ? from_ort_value(allocated_[k]) : outputs_[k]});
  }
  return set;
}

}  // namespace onnxpool
