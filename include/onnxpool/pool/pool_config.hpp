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

#include "onnxpool/runtime/device.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/scheduling/policy.hpp"

namespace onnxpool {

// A configuration the library refuses, with the field it is about ("batch") and the value given ("4"),
// so that a front end can name its own flag or key for it ("--batch 4: ...", "--grid batch=4: ...").
class ConfigError : public Error {
 public:
  ConfigError(std::string field, std::string value, const std::string& message)
      : Error(message), field_(std::move(field)), value_(std::move(value)) {}
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }

 private:
  std::string field_;
  std::string value_;
};

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

  // Throws ConfigError for what no pool can be: negative workers or threads, batch 0, workers given
  // beside devices (the device list says how many).
  void validate() const;
  // validate(), then what this model allows: a batch > 1 (the pool's or a device's @BATCH) needs a
  // model whose inputs and outputs all have a symbolic first dim. Throws ConfigError.
  void check_for(const ModelInfo& model) const;
};

}  // namespace onnxpool
