#pragma once
// The scheduler's per-worker statistics, behind their own mutex so that reading them never contends with
// the queues (a caller may poll stats() while items run).
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "onnxpool/scheduling/worker_slot.hpp"

namespace onnxpool::detail {

class StatsRecorder {
 public:
  // What one call of `run` (or one item failed without a call) adds to a worker's statistics.
  struct Tally {
    std::size_t runs = 0;
    std::size_t items = 0;
    std::size_t failures = 0;
    double seconds = 0.0;
    double queue_seconds = 0.0;
  };

  explicit StatsRecorder(const std::vector<std::string>& worker_names);

  void record(std::size_t worker, const Tally& tally);
  [[nodiscard]] std::vector<WorkerStats> snapshot() const;  // per worker, in worker order
  void reset();                                             // zero every count, keep the names

 private:
  mutable std::mutex mutex_;
  std::vector<WorkerStats> stats_;
};

}  // namespace onnxpool::detail
