// onnxpool info MODEL [--json]: the model's inputs and outputs (with symbolic dims), opsets, metadata.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"

namespace onnxpool::cli {
namespace {

nlohmann::json dims_json(const ValueInfo& value) {
  auto dims = nlohmann::json::array();
  for (const auto& dim : value.shape) {
    if (dim.fixed()) {
      dims.push_back(dim.value);
    } else {
      dims.push_back(dim.symbol.empty() ? nlohmann::json(nullptr) : nlohmann::json(dim.symbol));
    }
  }
  return dims;
}

nlohmann::json values_json(const std::vector<ValueInfo>& values) {
  auto list = nlohmann::json::array();
  for (const auto& value : values) {
    nlohmann::json entry{{"name", value.name}, {"type", element_type_name(value.type)}, {"shape", dims_json(value)}};
    if (value.index_limit) entry["index_limit"] = *value.index_limit;
    list.push_back(entry);
  }
  return list;
}

std::string opset_string(const OpsetImport& opset) {
  return fmt::format("{} {}", opset.domain.empty() ? "ai.onnx" : opset.domain, opset.version);
}

void print_values(const char* title, const std::vector<ValueInfo>& values) {
  std::size_t width = 4;
  for (const auto& value : values) width = std::max(width, value.name.size());
  fmt::print("{}:\n", title);
  for (const auto& value : values) {
    fmt::print("  {:<{}}  {:<8}  {}", value.name, width, element_type_name(value.type), value.shape_string());
    if (value.index_limit) fmt::print("  (indices < {})", *value.index_limit);
    fmt::print("\n");
  }
}

}  // namespace

Command add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show a model's inputs, outputs (with symbolic dims), opsets and metadata");
  cmd->footer("Examples:\n  onnxpool info mobilenetv2.onnx\n  onnxpool info model.onnx --json | jq .inputs");
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_flag("--json", args->json, "Print JSON instead of text");
  return [args, cmd] {
    Runtime runtime(ort_log_level(*cmd));
    const ModelInfo model = inspect_model(runtime, args->model);
    if (args->json) {
      nlohmann::json out{{"path", model.path.string()},
                         {"ir_version", model.ir_version},
                         {"producer", {{"name", model.producer_name}, {"version", model.producer_version}}},
                         {"graph", model.graph_name},
                         {"domain", model.domain},
                         {"description", model.description},
                         {"model_version", model.model_version},
                         {"batchable", model.batchable()},
                         {"inputs", values_json(model.inputs)},
                         {"outputs", values_json(model.outputs)},
                         {"metadata", model.metadata}};
      out["opsets"] = nlohmann::json::array();
      for (const auto& opset : model.opsets) {
        out["opsets"].push_back(
            {{"domain", opset.domain.empty() ? "ai.onnx" : opset.domain}, {"version", opset.version}});
      }
      fmt::print("{}\n", out.dump(2));
      return 0;
    }
    std::vector<std::string> opsets;
    for (const auto& opset : model.opsets) opsets.push_back(opset_string(opset));
    fmt::print("model:    {}\n", model.path.string());
    fmt::print("producer: {}{}\n", model.producer_name.empty() ? "unknown" : model.producer_name,
               model.producer_version.empty() ? "" : " " + model.producer_version);
    fmt::print("graph:    {}  (IR version {}, opsets: {})\n", model.graph_name, model.ir_version,
               fmt::join(opsets, ", "));
    // The first line of the doc string: the rest is in --json.
    if (!model.description.empty())
      fmt::print("about:    {}\n", model.description.substr(0, model.description.find('\n')));
    print_values("inputs", model.inputs);
    print_values("outputs", model.outputs);
    fmt::print("batching: {}\n", model.batchable() ? "yes (every input and output has a symbolic first dim)"
                                                   : "no (some input or output has a fixed first dim)");
    if (!model.metadata.empty()) {
      fmt::print("metadata:\n");
      for (const auto& [key, value] : model.metadata) fmt::print("  {}: {}\n", key, value);
    }
    return 0;
  };
}

}  // namespace onnxpool::cli
