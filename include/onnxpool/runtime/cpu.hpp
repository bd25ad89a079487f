#pragma once
// The machine's CPU cores and how a pool partitions them between its workers.
#include <string>
#include <vector>

namespace onnxpool {

struct CpuTopology {
  std::vector<int> logical;  // logical CPUs this process may run on (sched_getaffinity), ascending
  int physical_cores = 0;    // distinct (package, core) pairs among them
  std::string model_name;    // "Intel(R) Xeon(R) ..." from /proc/cpuinfo, when known

  [[nodiscard]] static CpuTopology detect();
  [[nodiscard]] int logical_count() const { return static_cast<int>(logical.size()); }
};

// Splits `cores` into `workers` disjoint groups of `threads` cores each, in order (worker 0 gets the
// first `threads` cores...). When workers * threads exceeds the cores, groups wrap around and share.
std::vector<std::vector<int>> partition_cores(const std::vector<int>& cores, int workers, int threads);

// ONNX Runtime's session.intra_op_thread_affinities for a worker pinned to `cores` with `threads`
// intra-op threads: one entry per pool thread (threads - 1; the caller's thread is the first), each
// a 1-based logical processor id as ONNX Runtime expects. Empty when threads <= 1.
std::string ort_thread_affinities(const std::vector<int>& cores, int threads);

// Pins the calling thread to the given logical CPUs; throws Error with the OS reason on failure.
void pin_current_thread(const std::vector<int>& cores);

}  // namespace onnxpool
