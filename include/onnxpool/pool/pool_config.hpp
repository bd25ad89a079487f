#pragma once
// One pool configuration, filled once (by the CLI's flags, a bench grid point, a program) and passed by
// const& to everything that needs it; the per-worker plan is derived from it in one place
// (plan_workers) and nowhere else. Its rules are checked once, by validate(), in words of the library
// ("workers must be >= 1"): the CLI names its own flags.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"

#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/device.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/scheduling/policy.hpp"

namespace onnxpool {

// A configuration the library refuses, with the field it is about ("batch") and the value given ("4"),
// so that a front end can name its own flag or key for it ("--batch 4: ...", "--grid batch=4: ...").
// `force`, when not empty, names the field that would make the library accept it anyway
// ("oversubscribe"): a front end words it as its own flag or keyword.
class ConfigError : public Error {
 public:
  ConfigError(std::string field, std::string value, const std::string& message, std::string force = {})
      : Error(message), field_(std::move(field)), value_(std::move(value)), force_(std::move(force)) {}
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }
  [[nodiscard]] const std::string& force() const noexcept { return force_; }

 private:
  std::string field_;
  std::string value_;
  std::string force_;
};

// Threads a pool may start per logical core before it is refused as more than the machine can serve
// (unless PoolConfig::oversubscribe). Inference is compute-bound: past a few threads per core nothing
// is gained, and tens of thousands of sessions take minutes and gigabytes before failing (issue 13).
// Eight leaves room for the tutorial's own oversubscribed experiment (W sessions at ONNX Runtime's
// default width: W x cores threads) up to W = 8.
inline constexpr int kMaxThreadsPerCore = 8;
// Workers a pool may have at all, oversubscribed or not (a device list's counts are summed in 64 bits
// against it before anything is expanded).
inline constexpr long long kMaxWorkers = 1 << 20;

struct PoolConfig {
  std::vector<DeviceSpec> devices{};  // explicit workers; empty: `workers` CPU workers
  int workers = 0;                    // CPU workers when `devices` is empty; 0: automatic
  int threads = 0;                    // intra-op threads per CPU worker; 0: the cores divided by the workers
  Policy policy = Policy::Dynamic;
  std::size_t batch = 1;         // items a worker takes at once, stacked along the batch dim
  bool pin = false;              // pin each CPU worker (and its threads) to its own cores
  std::optional<bool> spinning;  // default: on for a single worker, off when workers share cores
  bool ort_defaults = false;     // sessions at ONNX Runtime's default threading (the tutorial's)
  // Several CPU workers hold the model's weights once (see shared_weights.hpp) instead of once each.
  // Not with ort_defaults: the tutorial's sessions stay as it made them.
  bool share_weights = true;
  // The run's item count, when the caller knows it (0: unknown). A pool whose workers are a count
  // (`workers`, or automatic) makes no more of them than the items can keep busy (ceil(items / batch));
  // with fewer workers, each gets more of the cores. A device list is taken as written.
  std::size_t items = 0;
  // When the workers are automatic (no devices, workers or threads given), batch 1, dynamic policy, not
  // pinned, and several narrow workers share the cores: one more worker as wide as the cores (its
  // threads spinning only inside a run), sharing the weights, and the scheduler's budget of cores
  // (width_planner.hpp) so that a lone item runs on all cores and a deep queue on the narrow workers,
  // never both at once. Off: the narrow workers alone.
  bool adaptive = true;
  // Accept more threads than kMaxThreadsPerCore per core (an expert's benchmark of oversubscription).
  bool oversubscribe = false;

  // Throws ConfigError for what no pool can be: negative workers or threads, batch 0, workers given
  // beside devices (the device list says how many).
  void validate() const;
  // validate(), then what this machine can serve: the threads of every worker (intra-op threads of a
  // CPU worker, ONNX Runtime's default width for ort_defaults, one per CUDA worker's feeder) at most
  // kMaxThreadsPerCore per logical core unless oversubscribe, and at most kMaxWorkers workers. Throws
  // ConfigError naming the field to blame (threads, workers or devices) and oversubscribe as its force.
  // Cheap: nothing is expanded or allocated per worker, so a count of 10^9 is refused at once.
  void check_machine(const CpuTopology& cpu) const;
  // validate(), then what this model allows: a batch > 1 (the pool's or a device's @BATCH) needs a
  // model whose inputs and outputs all have a symbolic first dim. Throws ConfigError.
  void check_for(const ModelInfo& model) const;
};

}  // namespace onnxpool
