#include "onnxpool/worker.hpp"

#include <fmt/format.h>

#include "onnxpool/cpu.hpp"
#include "onnxpool/gpu.hpp"
#include "onnxpool/ort_value.hpp"
#include "onnxpool/runtime.hpp"
#include "onnxpool/shared_weights.hpp"
#include "ort_error.hpp"

namespace onnxpool {
namespace {

// A CUDA worker: ONNX Runtime's CUDA provider on the chosen GPU, one session (so one stream) per worker.
void append_cuda(Ort::SessionOptions& so, int device_id) {
  Ort::CUDAProviderOptions cuda;  // loads the provider library; throws when it cannot
  cuda.Update({{"device_id", std::to_string(device_id)}});
  so.AppendExecutionProvider_CUDA_V2(*cuda);
}

Ort::SessionOptions session_options(const WorkerOptions& options) {
  Ort::SessionOptions so;
  if (options.device.kind == DeviceKind::Cuda) append_cuda(so, options.device.index);
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

}  // namespace

Worker::Worker(Runtime& runtime, const std::filesystem::path& model, WorkerOptions options, std::string name)
    : name_(std::move(name)), options_(std::move(options)) {
  const std::string context = fmt::format("worker {} ({})", name_, model.filename().string());
  if (options_.device.kind == DeviceKind::Cuda) require_gpu(probe_gpu(), options_.device.index, context);
  if (!options_.ort_defaults && options_.intra_op_threads < 1) {
    throw Error(fmt::format("{}: intra-op threads must be >= 1, not {}", context, options_.intra_op_threads));
  }
  auto so = guard_ort(context, [&] { return session_options(options_); });
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
}

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
  if (inputs.size() != input_names_.size()) {
    throw Error(fmt::format("{} input values given, the model has {} inputs", inputs.size(), input_names_.size()));
  }
  return guard_ort("ONNX Runtime", [&] {
    return session_.Run(Ort::RunOptions{nullptr}, input_name_ptrs_.data(), inputs.data(), inputs.size(),
                        output_name_ptrs_.data(), output_name_ptrs_.size());
  });
}

}  // namespace onnxpool
