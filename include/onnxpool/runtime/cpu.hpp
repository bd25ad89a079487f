#pragma once
// The machine's CPU cores and how a pool partitions them between its workers.
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onnxpool {

struct CpuTopology {
  std::vector<int> logical;  // logical CPUs this process may run on (sched_getaffinity), ascending
  int physical_cores = 0;    // distinct (package, core) pairs among them
  // The logical CPUs in the order ONNX Runtime's default session pins its threads: the first of each
  // physical core, then their siblings (spread_over_cores). Empty when not detected: `logical` serves.
  std::vector<int> spread;
  std::string model_name;  // "Intel(R) Xeon(R) ..." from /proc/cpuinfo, when known
  // The CPU time its cgroup (v2) allows, in CPUs rounded up (cpu.max "400000 100000": 4), 0 when
  // unlimited: a container or a Ray/Spark executor given 4 CPUs of a 64-core node sees 64 in its
  // affinity mask and may use 4.
  int quota_cpus = 0;

  [[nodiscard]] static CpuTopology detect();
  [[nodiscard]] int logical_count() const { return static_cast<int>(logical.size()); }
  // The CPUs a pool sizes itself to: the affinity mask's, capped by the cgroup quota.
  [[nodiscard]] int usable_count() const {
    const int count = logical_count();
    return quota_cpus > 0 && quota_cpus < count ? quota_cpus : count;
  }
};

// `logical` (ascending) reordered so that each physical core comes once before any comes twice: the
// first logical CPU of every core in order, then the second of each, and so on. `core_of[i]` is
// logical[i]'s (package, core) pair. Threads pinned in this order share a core only when they must.
std::vector<int> spread_over_cores(const std::vector<int>& logical, const std::vector<std::pair<int, int>>& core_of);

// The cgroup v2 CPU quota of the process whose /proc/self/cgroup reads `proc_self_cgroup`, with the
// cgroup file system mounted at `cgroup_root` (/sys/fs/cgroup): the smallest cpu.max quota of its
// cgroup and its ancestors, in CPUs rounded up; 0 when none is set (or cgroup v1, or unreadable).
int cgroup_cpu_quota(const std::filesystem::path& cgroup_root, std::string_view proc_self_cgroup);

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
