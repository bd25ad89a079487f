// The small text grammars users type or give as files; the first byte chooses which, the rest is the text:
//   0 --devices (parse_devices)        4 --input NAME=FILE (InputFile::parse)   8 element type names
//   1 --grid KEY=VALUES (+ expand)     5 --data NAME=FILE (DataFile::parse)     9 --policy
//   2 --dim NAME=N (bind_dim)          6 --list files (parse_path_list)
//   3 --shape INPUT:D0,... (bind_shape) 7 --labels files (parse_labels)   10 --config files (TunedConfig)
// A result is checked where it is cheap: device specs round-trip through to_string, a grid axis expands
// to one configuration per value, a list holds no empty path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "fuzz_contract.hpp"
#include "onnxpool/bench/grid.hpp"
#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pipeline/source.hpp"
#include "onnxpool/pipeline/top_k.hpp"
#include "onnxpool/pool/tuned_config.hpp"
#include "onnxpool/runtime/device.hpp"
#include "onnxpool/scheduling/policy.hpp"

using onnxpool::fuzz::require;

namespace {

void devices(std::string_view text) {
  const auto specs = onnxpool::parse_devices(text);
  require(!specs.empty(), "at least one device");
  std::string again;
  for (const auto& spec : specs) again += (again.empty() ? "" : ",") + spec.to_string();
  require(onnxpool::parse_devices(again) == specs, "device specs round-trip through to_string");
}

void grid(std::string_view text) {
  const onnxpool::bench::GridAxis axis = onnxpool::bench::parse_grid_axis(text);
  require(!axis.values.empty(), "an axis has values");
  const auto configs = onnxpool::bench::expand_grid(std::span(&axis, 1), onnxpool::PoolConfig{});
  require(configs.size() == axis.values.size(), "one configuration per value");
}

// A tuned configuration that parses writes the JSON that parses to the same.
void tuned_config(std::string_view text) {
  const auto config = onnxpool::TunedConfig::parse(text, "fuzz.json");
  const auto again = onnxpool::TunedConfig::parse(config.to_json(), "again.json");
  require(again.workers == config.workers && again.threads == config.threads && again.batch == config.batch &&
              again.policy == config.policy && again.model == config.model && again.cpus == config.cpus,
          "a tuned configuration round-trips through its JSON");
}

void path_list(std::string_view text) {
  const auto paths = onnxpool::parse_path_list(text, "lists/fuzz.txt");
  for (const auto& path : paths) require(!path.empty(), "no empty path");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  onnxpool::fuzz::expect_error_or_success([&] {
    onnxpool::DimBindings bindings;
    switch (data[0] % 11) {
      case 0:
        return devices(text);
      case 1:
        return grid(text);
      case 2:
        return bindings.bind_dim(text);
      case 3:
        return bindings.bind_shape(text);
      case 4:
        return static_cast<void>(onnxpool::InputFile::parse(text));
      case 5:
        return static_cast<void>(onnxpool::DataFile::parse(text));
      case 6:
        return path_list(text);
      case 7:
        return static_cast<void>(onnxpool::parse_labels(text, "fuzz-labels"));
      case 8:
        return static_cast<void>(onnxpool::parse_element_type(text));
      case 9:
        return static_cast<void>(onnxpool::parse_policy(text));
      default:
        return tuned_config(text);
    }
  });
  return 0;
}
