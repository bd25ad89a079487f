#pragma once
// Device specs, one grammar for the CLI and the library:
//   cpu          a CPU worker (threads chosen by the pool)
//   cpu:4        a CPU worker with 4 intra-op threads
//   cuda:0       a CUDA worker on GPU 0
//   cuda:0*2     two workers on GPU 0 (each its own session and stream); also cpu:2*3
//   cuda:0@32    the worker takes up to 32 items at once, stacked into one run (default: --batch)
//   cpu,cuda:0,cuda:1   a list: one worker per entry (times its count)
// The full form of an entry: KIND[:ARG][*COUNT][@BATCH].
#include <string>
#include <string_view>
#include <vector>

namespace onnxpool {

enum class DeviceKind { Cpu, Cuda };

struct DeviceSpec {
  DeviceKind kind = DeviceKind::Cpu;
  int index = 0;    // GPU ordinal for Cuda; 0 for Cpu
  int threads = 0;  // Cpu: intra-op threads, 0 = chosen by the pool
  int count = 1;    // workers on this device
  int batch = 0;    // items per run for these workers; 0 = the pool's batch

  [[nodiscard]] std::string to_string() const;  // round-trips through parse_devices
  friend bool operator==(const DeviceSpec&, const DeviceSpec&) = default;
};

// Parses a comma-separated list; throws Error naming the bad entry ("unknown device 'tpu:0' (expected cpu,
// cpu:THREADS or cuda:ID, optionally followed by *COUNT and @BATCH)").
std::vector<DeviceSpec> parse_devices(std::string_view text);

}  // namespace onnxpool
