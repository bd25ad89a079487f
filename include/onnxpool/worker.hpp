#pragma once
// Worker: one ONNX Runtime session bound to one device with its own threading. Runs one item, or a
// batch of items stacked along the model's batch dim. Knows nothing of scheduling: the pool calls it.
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "onnxpool/device.hpp"
#include "onnxpool/tensor.hpp"

namespace onnxpool {

class Runtime;
class SharedWeights;

struct WorkerOptions {
  DeviceSpec device;  // cpu (CUDA workers come with the GPU support)
  // Session settings. `ort_defaults` leaves every threading option at ONNX Runtime's defaults (one
  // intra-op thread per physical core, pinned, spinning): the tutorial's sessions, kept faithfully.
  bool ort_defaults = false;
  int intra_op_threads = 1;             // used unless ort_defaults
  bool allow_spinning = false;          // idle intra-op threads spin (burn a core) waiting for work
  std::vector<int> cores;               // pin the worker's thread and its intra-op threads here; empty: no pinning
  bool share_prepacked_weights = true;  // through the Runtime's container
  // Graph optimisation level, as ORT's enum (default: all).
  GraphOptimizationLevel optimization = GraphOptimizationLevel::ORT_ENABLE_ALL;
  // Weights prepared once for all workers of a pool: the session is made from its optimised model
  // with its initializers (see shared_weights.hpp). Null: the session loads the model on its own.
  std::shared_ptr<const SharedWeights> shared_weights;
};

class Worker {
 public:
  // Creates the session; throws Error naming the worker and the model on failure.
  Worker(Runtime& runtime, const std::filesystem::path& model, WorkerOptions options, std::string name);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  Worker(Worker&&) = delete;
  Worker& operator=(Worker&&) = delete;
  ~Worker() = default;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const WorkerOptions& options() const { return options_; }
  [[nodiscard]] const std::vector<std::string>& input_names() const { return input_names_; }
  [[nodiscard]] const std::vector<std::string>& output_names() const { return output_names_; }
  [[nodiscard]] Ort::Session& session() { return session_; }

  // To be called once on the thread that will call run(): pins it to the worker's first core when
  // the worker is pinned (ONNX Runtime pins only its own pool threads, never the caller).
  void bind_current_thread() const;

  // Runs one item: the inputs by name (any order; every model input must be there). Outputs come in
  // the model's output order. Throws Error (ONNX Runtime's message) on failure.
  TensorSet run(const TensorSet& inputs);
  // Runs items stacked along their first dim in one session run and splits the outputs back; every
  // output must have the batch as first dim. One item: the same as run().
  std::vector<TensorSet> run_batch(std::span<const TensorSet* const> items);
  // Runs pre-made ONNX Runtime values (in input_names() order), the tutorial's OrtValue path.
  std::vector<Ort::Value> run_values(std::span<const Ort::Value> inputs);

 private:
  std::vector<Ort::Value> bind_inputs(const TensorSet& inputs, std::vector<const char*>& names) const;

  std::string name_;
  WorkerOptions options_;  // holds the shared weights, which must outlive the session below
  Ort::Session session_{nullptr};
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
  std::vector<const char*> input_name_ptrs_;
  std::vector<const char*> output_name_ptrs_;
};

}  // namespace onnxpool
