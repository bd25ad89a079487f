#pragma once
// ModelInfo: what `onnxpool info` prints. Inputs and outputs as ONNX Runtime sees them (initializers
// excluded, as its Python get_inputs()), with symbolic dim names, plus opset imports and metadata.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class Runtime;

// One dimension of a declared shape: fixed (value >= 0), or symbolic (a name such as "batch_size",
// or unnamed when the model leaves it open without a name).
struct Dim {
  std::int64_t value = -1;  // -1 when not fixed
  std::string symbol;       // the name when symbolic; may be empty

  [[nodiscard]] bool fixed() const { return value >= 0; }
  [[nodiscard]] std::string to_string() const;  // "224", "batch_size" or "?"
  friend bool operator==(const Dim&, const Dim&) = default;
};

struct ValueInfo {
  std::string name;
  ElementType type = ElementType::Undefined;
  std::vector<Dim> shape;
  // For integer inputs used as indices by a Gather (token ids): values must lie in [0, index_limit).
  std::optional<std::int64_t> index_limit;

  [[nodiscard]] std::string shape_string() const;  // "[batch_size,3,224,224]"
};

struct OpsetImport {
  std::string domain;  // "" is the default ONNX domain ("ai.onnx")
  std::int64_t version = 0;
};

struct ModelInfo {
  std::filesystem::path path;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<OpsetImport> opsets;
  std::int64_t ir_version = 0;
  std::string producer_name;
  std::string producer_version;
  std::string graph_name;
  std::string domain;
  std::string description;
  std::int64_t model_version = 0;
  std::map<std::string, std::string> metadata;  // custom metadata_props

  [[nodiscard]] const ValueInfo& input(const std::string& name) const;  // throws Error naming the model's inputs
  // True when every input and output has a symbolic first dim (a batch dim): then items can be
  // stacked along it into one run and the outputs split back.
  [[nodiscard]] bool batchable() const;
  // The names of the inputs' symbolic dims (the dims a run binds: --dim NAME=VALUE), sorted.
  [[nodiscard]] std::set<std::string> input_dim_names() const;
  // The outputs' names, in the model's order.
  [[nodiscard]] std::vector<std::string> output_names() const;
};

// True when every input and output has a symbolic first dim (a batch dim) and there is an input.
[[nodiscard]] bool batchable(const std::vector<ValueInfo>& inputs, const std::vector<ValueInfo>& outputs);

// Reads the model's interface through ONNX Runtime and its opsets / graph facts from the ModelProto.
// Throws Error naming the file: missing, empty, truncated or not an ONNX model.
ModelInfo inspect_model(Runtime& runtime, const std::filesystem::path& path);

// Checks the file exists, is a regular non-empty file: one clear error otherwise.
void check_model_file(const std::filesystem::path& path);

}  // namespace onnxpool
