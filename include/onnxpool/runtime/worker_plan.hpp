#pragma once
// What one worker is: the single description a Worker is made from, derived from a PoolConfig by
// plan_workers (or written by hand for a lone session). Printing a pool's plan and making its workers
// read the same values.
#include <cstddef>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "onnxpool/runtime/device.hpp"

namespace onnxpool {

struct WorkerPlan {
  std::string name = "worker";  // "cpu#0", "cuda0#1"; names the worker in every error
  DeviceSpec device{};          // its device (count 1); CUDA workers come with the GPU support
  std::size_t batch = 1;        // items it takes at once, stacked along the batch dim
  // Session settings. `ort_defaults` leaves every threading option at ONNX Runtime's defaults (one
  // intra-op thread per physical core, pinned, spinning): the tutorial's sessions, kept faithfully.
  bool ort_defaults = false;
  int threads = 1;           // intra-op threads (unless ort_defaults)
  std::vector<int> cores{};  // pin the worker's thread and its intra-op threads here; empty: no pinning
  bool spinning = false;     // idle intra-op threads spin (burn a core) waiting for work
  // ONNX Runtime's memory pattern: one block planned for all intermediate tensors at once. A default
  // session has it; the pool's narrow workers go without (see session_options in worker.cpp).
  bool memory_pattern = false;
  // Its intra-op threads run at the idle CPU priority, giving way to any other thread that needs their
  // core (src/runtime/yielding_threads.hpp): the adaptive pool's wide worker, whose threads spin after a
  // lone item while a burst may already run on the narrow workers.
  bool give_way = false;
  // Cores it keeps busy while it runs, out of the pool's budget (see PoolConfig::adaptive); 0: outside it.
  std::size_t width = 0;
  bool share_prepacked_weights = true;  // through the Runtime's container
  GraphOptimizationLevel optimization = GraphOptimizationLevel::ORT_ENABLE_ALL;
  // Bind inputs and outputs with Ort::IoBinding: always on for CUDA workers, CPU workers may opt in.
  bool io_binding = false;
};

}  // namespace onnxpool
