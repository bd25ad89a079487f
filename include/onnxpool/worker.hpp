#pragma once
// Worker: one ONNX Runtime session bound to one device with its own threading. Runs one item, or a
// batch of items stacked along the model's batch dim. Knows nothing of scheduling: the pool calls it.
// A CUDA worker (and a CPU worker asking for it) runs through an Ort::IoBinding, and can hold an item's
// inputs in its GPU's memory so that repeated runs copy nothing from the host.
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
struct GpuSupport;
class BoundRunner;
class DeviceInputs;

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
  // Bind inputs and outputs with Ort::IoBinding: always on for CUDA workers, CPU workers may opt in.
  bool io_binding = false;
  // What probe_gpu() found, shared by the CUDA workers of a pool so the machine is probed once. Null:
  // a CUDA worker probes by itself.
  std::shared_ptr<const GpuSupport> gpu;
};

class Worker {
 public:
  // Creates the session; throws Error naming the worker and the model on failure.
  Worker(Runtime& runtime, const std::filesystem::path& model, WorkerOptions options, std::string name);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  Worker(Worker&&) = delete;
  Worker& operator=(Worker&&) = delete;
  ~Worker();

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const WorkerOptions& options() const { return options_; }
  [[nodiscard]] const std::vector<std::string>& input_names() const { return input_names_; }
  [[nodiscard]] const std::vector<std::string>& output_names() const { return output_names_; }
  [[nodiscard]] Ort::Session& session() { return session_; }

  // To be called once on the thread that will call run(): pins it to the worker's first core when
  // the worker is pinned (ONNX Runtime pins only its own pool threads, never the caller).
  void bind_current_thread() const;

  // Runs one item: the inputs by name (any order; every model input must be there). Outputs come in
  // the model's output order. Throws Error (ONNX Runtime's message) on failure. Through the IoBinding
  // when the worker has one: inputs bound from the host tensors (ONNX Runtime copies them to the
  // device), outputs bound to host memory (CUDA pinned memory on a CUDA worker) and copied out.
  TensorSet run(const TensorSet& inputs);
  // Runs items stacked along their first dim in one session run and splits the outputs back; every
  // output must have the batch as first dim. One item: the same as run().
  std::vector<TensorSet> run_batch(std::span<const TensorSet* const> items);
  // Runs pre-made ONNX Runtime values (in input_names() order), the tutorial's OrtValue path.
  std::vector<Ort::Value> run_values(std::span<const Ort::Value> inputs);

  // The values of one item's inputs (input_names() order), resident where the session reads them: on a
  // CPU worker zero-copy views of the item's tensors (the item must outlive them); on a CUDA worker
  // copies in the GPU's memory, owned by the values, made once so that repeated runs measure no
  // host-to-device copy (the tutorial's OrtValue path). Where the GPU copy cannot be made the values
  // are host views as on a CPU worker, and inputs_on_device() says false (results stay right: the
  // session copies them on each run). The Runtime must outlive the values. Throws Error naming the
  // worker and the missing or unknown input.
  std::vector<Ort::Value> resident_inputs(const TensorSet& item);
  // True on CUDA workers when resident_inputs gives device memory (for at least one input).
  [[nodiscard]] bool inputs_on_device() const;
  // Why resident_inputs gives host memory on a CUDA worker, in a phrase; empty otherwise.
  [[nodiscard]] std::string inputs_on_host_reason() const;
  // Runs pre-made input values (from resident_inputs or any Ort::Value in input_names() order) writing
  // into pre-made output values (host tensors in output_names() order, e.g. views of Tensors the caller
  // allocated). Throws Error (ONNX Runtime's message) on failure, and names a count mismatch.
  void run_values_into(std::span<const Ort::Value> inputs, std::span<Ort::Value> outputs);

  // Whether runs go through an Ort::IoBinding (CUDA workers, and CPU workers with io_binding).
  [[nodiscard]] bool uses_io_binding() const { return binding_ != nullptr; }

 private:
  std::vector<Ort::Value> bind_inputs(const TensorSet& inputs, std::vector<const char*>& names) const;
  // The device-copy plan of a CUDA worker, made at first use; null on a CPU worker.
  DeviceInputs* device_inputs() const;

  std::string name_;
  WorkerOptions options_;  // holds the shared weights, which must outlive the session below
  Runtime* runtime_;       // must outlive the worker: device copies go through its environment
  Ort::Session session_{nullptr};
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
  std::vector<const char*> input_name_ptrs_;
  std::vector<const char*> output_name_ptrs_;
  std::unique_ptr<BoundRunner> binding_;                 // null: plain Session::Run
  mutable std::unique_ptr<DeviceInputs> device_inputs_;  // CUDA workers, from their first device_inputs()
};

}  // namespace onnxpool
