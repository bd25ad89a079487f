#include "onnxpool/scheduling/stats_recorder.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace onnxpool::detail {

StatsRecorder::StatsRecorder(const std::vector<std::string>& worker_names) {
  stats_.reserve(worker_names.size());
  for (const std::string& name : worker_names) stats_.push_back(WorkerStats{.name = name});
}

void StatsRecorder::record(std::size_t worker, const Tally& tally) {
  const std::lock_guard lock(mutex_);
  WorkerStats& stats = stats_[worker];
  stats.runs += tally.runs;
  stats.items += tally.items;
  stats.failures += tally.failures;
  stats.busy_seconds += tally.seconds;
  stats.queue_seconds += tally.queue_seconds;
}

std::vector<WorkerStats> StatsRecorder::snapshot() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

void StatsRecorder::reset() {
  const std::lock_guard lock(mutex_);
  for (WorkerStats& stats : stats_) stats = WorkerStats{.name = stats.name};
}

}  // namespace onnxpool::detail
