#pragma once
// Worker: one ONNX Runtime session bound to one device with its own threading, made from a WorkerPlan.
// Knows nothing of scheduling: the pool calls it. Like onnxruntime_perf_test's TestSession it has an
// untimed preparation and a timed run, and no other way in:
//  - run(items): one item, or several stacked along the model's batch dim in one session run;
//  - prepare(item) (untimed) then run(prepared) (timed): the tutorial's OrtValue path (prepared_item.hpp).
// A CUDA worker (and a CPU worker whose plan asks for it) runs through an Ort::IoBinding.
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "onnxpool/runtime/prepared_item.hpp"
#include "onnxpool/runtime/worker_plan.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class Runtime;
class SharedWeights;
struct GpuSupport;
class BoundRunner;
class DeviceInputs;

// What the workers of one pool share, made once for all of them.
struct WorkerResources {
  // Weights prepared once for all CPU workers of a pool: the session is made from the optimised model
  // with its initializers (see shared_weights.hpp). Null: the session loads the model on its own.
  std::shared_ptr<const SharedWeights> shared_weights{};
  // What probe_gpu() found, so the machine is probed once. Null: a CUDA worker probes by itself.
  std::shared_ptr<const GpuSupport> gpu{};
};

class Worker {
 public:
  // Creates the session; throws Error naming the worker and the model on failure.
  Worker(Runtime& runtime, const std::filesystem::path& model, WorkerPlan plan, WorkerResources resources = {});
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  Worker(Worker&&) = delete;
  Worker& operator=(Worker&&) = delete;
  ~Worker();

  [[nodiscard]] const std::string& name() const { return plan_.name; }
  [[nodiscard]] const WorkerPlan& plan() const { return plan_; }
  [[nodiscard]] const std::vector<std::string>& input_names() const { return input_names_; }
  [[nodiscard]] const std::vector<std::string>& output_names() const { return output_names_; }

  // To be called once on the thread that will call run(): pins it to the worker's first core when
  // the worker is pinned (ONNX Runtime pins only its own pool threads, never the caller).
  void bind_current_thread() const;

  // Runs items, each its inputs by name (any order; every model input must be there); one result per
  // item, outputs in the model's output order. Several items are stacked along their first dim into
  // one session run and the outputs split back (every output must have the batch as first dim). Throws
  // Error (ONNX Runtime's message) on failure. Through the IoBinding when the worker has one: inputs
  // bound from the host tensors, outputs bound to host memory (CUDA pinned memory on a CUDA worker).
  std::vector<TensorSet> run(std::span<const TensorSet* const> items);
  // One item: run({&item})'s only result.
  TensorSet run(const TensorSet& item);

  // The untimed half of the OrtValue path: `item`'s inputs made resident where this worker reads them
  // and its outputs allocated (see prepared_item.hpp). The item must outlive the result on a CPU worker
  // (its values are views), the Runtime on a CUDA worker. Throws Error naming the worker and the
  // missing or unknown input.
  PreparedItem prepare(const TensorSet& item);
  // The timed half: runs a prepared item into its outputs. Throws Error naming the worker.
  void run(PreparedItem& item);

  // Whether items can be stacked into one run: every input and output has a symbolic first dim.
  [[nodiscard]] bool stackable() const { return stackable_; }

  // Whether runs go through an Ort::IoBinding (CUDA workers, and CPU workers whose plan asks for it).
  [[nodiscard]] bool uses_io_binding() const { return binding_ != nullptr; }

 private:
  std::vector<Ort::Value> bind_inputs(const TensorSet& inputs, std::vector<const char*>& names) const;
  TensorSet run_one(const TensorSet& inputs);
  // The device-copy plan of a CUDA worker, made at first use; null on a CPU worker.
  DeviceInputs* device_inputs();

  WorkerPlan plan_;
  WorkerResources resources_;  // holds the shared weights, which must outlive the session below
  Runtime* runtime_;           // must outlive the worker: device copies go through its environment
  Ort::Session session_{nullptr};
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
  std::vector<const char*> input_name_ptrs_;
  std::vector<const char*> output_name_ptrs_;
  bool stackable_ = false;
  std::unique_ptr<BoundRunner> binding_;         // null: plain Session::Run
  std::unique_ptr<DeviceInputs> device_inputs_;  // CUDA workers, from their first prepare()
  // Output element types and shapes per distinct input shapes, learnt by prepare()'s untimed runs.
  std::map<std::vector<Shape>, std::vector<std::pair<ElementType, Shape>>> output_layouts_;
};

}  // namespace onnxpool
