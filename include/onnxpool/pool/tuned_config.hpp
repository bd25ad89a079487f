#pragma once
// A pool configuration tuned on one machine, kept as a small JSON file so that later runs reuse it:
// `bench --grid ... --best --save-config FILE` writes the fastest configuration it measured, `run
// --config FILE` (and `bench --config FILE`) take it. It records where and for what it was measured (the
// model, the machine's usable CPUs and CPU model, the throughput), so that a run on another machine can
// say that the setting may not suit it.
//
//   {"onnxpool_config": 1, "workers": 2, "threads": 1, "batch": 1, "policy": "dynamic",
//    "tuned": {"model": "mobilenetv2.onnx", "cpus": 2, "cpu_model": "AMD EPYC", "items_per_s": 214.0,
//              "p50_ms": 9.3, "by": "onnxpool bench --grid workers=1,2 threads=1,2 --best"}}
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "onnxpool/pool/pool_config.hpp"
#include "onnxpool/scheduling/policy.hpp"

namespace onnxpool {

struct TunedConfig {
  static constexpr int kVersion = 1;
  int workers = 0;  // 0: automatic
  int threads = 0;  // 0: the cores divided by the workers
  std::size_t batch = 1;
  Policy policy = Policy::Dynamic;
  // Where it was measured.
  std::string model;
  int cpus = 0;
  std::string cpu_model;
  double items_per_s = 0.0;
  double p50_ms = 0.0;
  std::string by;  // the command that measured it

  // The JSON text of the file.
  [[nodiscard]] std::string to_json() const;
  // Parses a file's text (`source` names it in errors). Throws Error naming the file and the key for
  // anything but such an object: not JSON, another version, a missing or ill-typed key, a value out of
  // range (as PoolConfig::validate refuses it), an unknown key (a typo would otherwise be ignored).
  static TunedConfig parse(std::string_view text, const std::string& source);
};

// Writes `config` to `path` atomically (a temporary renamed into place). Throws Error naming the file.
void save_tuned_config(const std::filesystem::path& path, const TunedConfig& config);
// Reads `path` (a regular file of at most 1 MiB). Throws Error naming the file.
TunedConfig load_tuned_config(const std::filesystem::path& path);

}  // namespace onnxpool
