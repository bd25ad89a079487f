#include "onnxpool/runtime/cpu.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

int read_int_file(const std::string& path, int fallback) {
  std::ifstream in(path);
  int value = fallback;
  return (in >> value) ? value : fallback;
}

std::string read_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return {};
}

// "400000 100000" -> 4 CPUs (rounded up); "max 100000" or anything unreadable -> 0.
int quota_of(const std::filesystem::path& cpu_max) {
  std::ifstream in(cpu_max);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
  long long microseconds = 0;
  const auto [end, ec] = std::from_chars(quota.data(), quota.data() + quota.size(), microseconds);
  if (ec != std::errc{} || end != quota.data() + quota.size() || microseconds <= 0) return 0;
  const long long cpus = (microseconds + period - 1) / period;
  return static_cast<int>(std::min<long long>(cpus, 1 << 20));
}

}  // namespace

int cgroup_cpu_quota(const std::filesystem::path& cgroup_root, std::string_view proc_self_cgroup) {
  // cgroup v2: the single line "0::/path/of/the/cgroup".
  std::string_view path;
  while (!proc_self_cgroup.empty()) {
    const auto end = proc_self_cgroup.find('\n');
    const auto line = proc_self_cgroup.substr(0, end);
    if (line.starts_with("0::")) path = line.substr(3);
    proc_self_cgroup = end == std::string_view::npos ? std::string_view{} : proc_self_cgroup.substr(end + 1);
  }
  if (path.empty() || path.front() != '/') return 0;
  // The cgroup and its ancestors up to the root: the tightest quota rules.
  int quota = 0;
  std::filesystem::path relative(path.substr(1));
  while (true) {
    const int here = quota_of(cgroup_root / relative / "cpu.max");
    if (here > 0 && (quota == 0 || here < quota)) quota = here;
    if (relative.empty() || relative == relative.parent_path()) break;
    relative = relative.parent_path();
  }
  return quota;
}

CpuTopology CpuTopology::detect() {
  CpuTopology topology;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) topology.logical.push_back(cpu);
    }
  }
  if (topology.logical.empty()) topology.logical.push_back(0);
  std::vector<std::pair<int, int>> core_of;
  for (int cpu : topology.logical) {
    const std::string base = fmt::format("/sys/devices/system/cpu/cpu{}/topology/", cpu);
    core_of.emplace_back(read_int_file(base + "physical_package_id", 0), read_int_file(base + "core_id", cpu));
  }
  topology.physical_cores = static_cast<int>(std::set(core_of.begin(), core_of.end()).size());
  topology.spread = spread_over_cores(topology.logical, core_of);
  topology.model_name = read_model_name();
  std::ifstream cgroup("/proc/self/cgroup");
  const std::string membership((std::istreambuf_iterator<char>(cgroup)), std::istreambuf_iterator<char>());
  topology.quota_cpus = cgroup_cpu_quota("/sys/fs/cgroup", membership);
  return topology;
}

std::vector<int> spread_over_cores(const std::vector<int>& logical, const std::vector<std::pair<int, int>>& core_of) {
  if (core_of.size() != logical.size()) throw Error("spread_over_cores needs one core for each logical CPU");
  // Round r takes the r-th logical CPU of every core that has one, in the order the cores first appear.
  std::map<std::pair<int, int>, int> seen;  // core -> logical CPUs of it met so far
  std::vector<std::pair<int, int>> keyed;   // (round, position in logical)
  for (std::size_t i = 0; i < logical.size(); ++i) keyed.emplace_back(seen[core_of[i]]++, static_cast<int>(i));
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<int> order;
  order.reserve(logical.size());
  for (const auto& [round, i] : keyed) order.push_back(logical[static_cast<std::size_t>(i)]);
  return order;
}

std::vector<std::vector<int>> partition_cores(const std::vector<int>& cores, int workers, int threads) {
  if (cores.empty() || workers < 1 || threads < 1)
    throw Error("partition_cores needs cores, workers >= 1, threads >= 1");
  std::vector<std::vector<int>> groups(static_cast<std::size_t>(workers));
  std::size_t next = 0;
  for (auto& group : groups) {
    for (int t = 0; t < threads; ++t) group.push_back(cores[next++ % cores.size()]);
    std::sort(group.begin(), group.end());
    group.erase(std::unique(group.begin(), group.end()), group.end());
  }
  return groups;
}

std::string ort_thread_affinities(const std::vector<int>& cores, int threads) {
  if (threads <= 1 || cores.empty()) return {};
  std::string text;
  // Thread 0 is the caller (pinned by pin_current_thread to cores[0]); pool thread t gets cores[t].
  for (int t = 1; t < threads; ++t) {
    if (!text.empty()) text += ';';
    text += std::to_string(cores[static_cast<std::size_t>(t) % cores.size()] + 1);
  }
  return text;
}

void pin_current_thread(const std::vector<int>& cores) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cores) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) throw Error(fmt::format("cannot pin a thread to CPU {}: no such CPU", cpu));
    CPU_SET(cpu, &set);
  }
  if (const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); rc != 0) {
    throw Error(fmt::format("cannot pin a thread to cores {}: {}", fmt::join(cores, ","), std::strerror(rc)));
  }
}

}  // namespace onnxpool
