#include "onnxpool/runtime/model.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>

#include "common/elide.hpp"
#include "common/ort_error.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "runtime/value_info.hpp"

namespace onnxpool {
namespace {

ValueInfo value_info(const std::string& name, const Ort::TypeInfo& type, const std::filesystem::path& path) {
  auto value = tensor_value_info(name, type);
  if (!value) {
    throw Error(fmt::format("{}: '{}' is not a tensor (sequences and maps are not supported)", path.string(), name));
  }
  return std::move(*value);
}

// Facts ONNX Runtime does not expose: opset imports, and which integer inputs index an embedding
// table (so random token ids stay inside the vocabulary).
void read_model_proto(ModelInfo& model) {
  std::ifstream in(model.path, std::ios::binary);
  onnx::ModelProto proto;
  if (!in || !proto.ParseFromIstream(&in)) {
    throw Error(fmt::format("{}: not a valid ONNX model (the protobuf does not parse)", model.path.string()));
  }
  model.ir_version = proto.ir_version();
  model.producer_version = proto.producer_version();
  for (const auto& opset : proto.opset_import()) model.opsets.push_back({opset.domain(), opset.version()});

  const auto& graph = proto.graph();
  for (const auto& node : graph.node()) {
    if (node.op_type() != "Gather" || node.input_size() < 2) continue;
    std::int64_t axis = 0;
    for (const auto& attribute : node.attribute()) {
      if (attribute.name() == "axis") axis = attribute.i();
    }
    const auto table = std::find_if(graph.initializer().begin(), graph.initializer().end(),
                                    [&](const auto& init) { return init.name() == node.input(0); });
    if (table == graph.initializer().end()) continue;
    if (axis < 0) axis += table->dims_size();
    if (axis < 0 || axis >= table->dims_size()) continue;
    for (auto& input : model.inputs) {
      if (input.name == node.input(1)) {
        const auto limit = table->dims(static_cast<int>(axis));
        input.index_limit = input.index_limit ? std::min(*input.index_limit, limit) : limit;
      }
    }
  }
}

}  // namespace

std::optional<ValueInfo> tensor_value_info(const std::string& name, const Ort::TypeInfo& type) {
  if (type.GetONNXType() != ONNX_TYPE_TENSOR) return std::nullopt;
  const auto info = type.GetTensorTypeAndShapeInfo();
  const auto values = info.GetShape();
  const auto symbols = info.GetSymbolicDimensions();
  ValueInfo value;
  value.name = name;
  value.type = static_cast<ElementType>(info.GetElementType());
  value.shape.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    value.shape[i].value = values[i] >= 0 ? values[i] : -1;
    if (values[i] < 0 && i < symbols.size() && symbols[i] != nullptr) value.shape[i].symbol = symbols[i];
  }
  return value;
}

std::string Dim::to_string() const {
  if (fixed()) return std::to_string(value);
  return symbol.empty() ? "?" : symbol;
}

std::string ValueInfo::shape_string() const {
  std::vector<std::string> parts;
  parts.reserve(shape.size());
  for (const auto& dim : shape) parts.push_back(dim.to_string());
  return elided_list(parts, "dims");
}

const ValueInfo& ModelInfo::input(const std::string& name) const {
  for (const auto& value : inputs) {
    if (value.name == name) return value;
  }
  std::vector<std::string> names;
  for (const auto& value : inputs) names.push_back(value.name);
  throw Error(fmt::format("{}: the model has no input '{}' (its inputs: {})", path.filename().string(), name,
                          fmt::join(names, ", ")));
}

std::vector<std::string> ModelInfo::output_names() const {
  std::vector<std::string> names;
  names.reserve(outputs.size());
  for (const auto& value : outputs) names.push_back(value.name);
  return names;
}

std::set<std::string> ModelInfo::input_dim_names() const {
  std::set<std::string> names;
  for (const auto& value : inputs) {
    for (const auto& dim : value.shape) {
      if (!dim.fixed() && !dim.symbol.empty()) names.insert(dim.symbol);
    }
  }
  return names;
}

bool batchable(const std::vector<ValueInfo>& inputs, const std::vector<ValueInfo>& outputs) {
  const auto symbolic_first = [](const ValueInfo& value) { return !value.shape.empty() && !value.shape[0].fixed(); };
  return !inputs.empty() && std::all_of(inputs.begin(), inputs.end(), symbolic_first) &&
         std::all_of(outputs.begin(), outputs.end(), symbolic_first);
}

bool ModelInfo::batchable() const {
  return onnxpool::batchable(inputs, outputs);
}

void check_model_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw Error(fmt::format("{}: model file not found", path.string()));
  if (!std::filesystem::is_regular_file(status)) throw Error(fmt::format("{}: not a regular file", path.string()));
  if (std::filesystem::file_size(path, ec) == 0) throw Error(fmt::format("{}: the model file is empty", path.string()));
}

ModelInfo inspect_model(Runtime& runtime, const std::filesystem::path& path) {
  check_model_file(path);
  ModelInfo model;
  model.path = path;
  Ort::SessionOptions options;
  options.SetIntraOpNumThreads(1);
  options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);  // only the interface is read
  const Ort::Session session =
      guard_ort(path.string(), [&] { return Ort::Session(runtime.env(), path.c_str(), options); });

  Ort::AllocatorWithDefaultOptions allocator;
  for (std::size_t i = 0; i < session.GetInputCount(); ++i) {
    model.inputs.push_back(
        value_info(session.GetInputNameAllocated(i, allocator).get(), session.GetInputTypeInfo(i), path));
  }
  for (std::size_t i = 0; i < session.GetOutputCount(); ++i) {
    model.outputs.push_back(
        value_info(session.GetOutputNameAllocated(i, allocator).get(), session.GetOutputTypeInfo(i), path));
  }
  const auto meta = session.GetModelMetadata();
  model.producer_name = meta.GetProducerNameAllocated(allocator).get();
  model.graph_name = meta.GetGraphNameAllocated(allocator).get();
  model.domain = meta.GetDomainAllocated(allocator).get();
  model.description = meta.GetDescriptionAllocated(allocator).get();
  model.model_version = meta.GetVersion();
  for (const auto& key : meta.GetCustomMetadataMapKeysAllocated(allocator)) {
    model.metadata[key.get()] = meta.LookupCustomMetadataMapAllocated(key.get(), allocator).get();
  }
  read_model_proto(model);
  return model;
}

}  // namespace onnxpool
