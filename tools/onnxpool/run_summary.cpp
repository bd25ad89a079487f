#include "run_summary.hpp"

#include <span>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/device.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool::cli {
namespace {

// What a worker is: "1 thread", "2 threads on cores 0,1", "GPU 0"; then its batch when it stacks.
std::string worker_role(const WorkerPlan& p) {
  std::string what = p.device.kind == DeviceKind::Cuda
                         ? fmt::format("GPU {}", p.device.index)
                         : fmt::format("{} thread{}", p.threads, p.threads == 1 ? "" : "s");
  if (!p.cores.empty()) what += fmt::format(" on cores {}", fmt::join(p.cores, ","));
  if (p.batch > 1) what += fmt::format(", batch {}", p.batch);
  return what;
}

// Where the time went, from the run's summary and the workers' statistics.
struct Times {
  double busy_share = 0.0;  // of the workers' time, inside their runs
  // Per item, in Triton's terms: how long it waited in the pool's queue, and how long its run took (a
  // batch's run shared by its items).
  double queue_ms = 0.0;
  double running_ms = 0.0;
  std::size_t ran = 0;  // items this run ran (not kept from an earlier one)
};

Times times_of(const StreamSummary& done, const std::vector<WorkerStats>& stats) {
  double busy = 0.0;
  double queued = 0.0;
  std::size_t worked = 0;
  for (const auto& w : stats) {
    busy += w.busy_seconds;
    queued += w.queue_seconds;
    worked += w.items;
  }
  Times t;
  t.queue_ms = worked > 0 ? 1e3 * queued / static_cast<double>(worked) : 0.0;
  t.running_ms = worked > 0 ? 1e3 * busy / static_cast<double>(worked) : 0.0;
  t.busy_share = done.seconds > 0.0 ? busy / (done.seconds * static_cast<double>(stats.size())) : 0.0;
  t.ran = done.items - done.kept;
  return t;
}

}  // namespace

std::string pool_choice(const Pool& pool, const PoolConfig& config, const std::string& origin) {
  const auto& plan = pool.plan();
  const std::size_t budget = core_budget(plan);
  std::vector<std::string> roles;
  if (budget > 0) {
    // The adaptive pool: narrow workers for a deep queue and one as wide as the cores (the last).
    // The narrow ones alike but each pinned apart: their role without the first one's cores, and that.
    WorkerPlan narrow = plan.front();
    const bool pinned = !narrow.cores.empty();
    narrow.cores.clear();
    roles.push_back(fmt::format("{} x {}{} for a deep queue", plan.size() - 1, worker_role(narrow),
                                pinned ? ", each on cores of its own," : ""));
    roles.push_back(fmt::format("1 x {} for lone items, never beside them", worker_role(plan.back())));
  } else {
    for (const auto& p : plan) {
      const std::string role = worker_role(p);
      if (roles.empty() || roles.back().find(role) == std::string::npos) roles.push_back(role);
    }
  }
  std::string why = origin;
  if (origin == "automatic") {
    const int cores = CpuTopology::detect().usable_count();
    why = fmt::format(
        "automatic for {} core{}: throughput first, one single-thread worker per core up to 8 cores, "
        "wider ones beyond",
        cores, cores == 1 ? "" : "s");
    if (budget > 0) {
      why += fmt::format(
          "; the queue's depth picks the width: items too few to fill the {} cores run on all of them, as a "
          "single session's would",
          budget);
    }
    if (pool.learnt_batch_cap() > 0) {
      why += fmt::format("; each worker stacks up to {} queued items only where its own runs show stacking faster",
                         pool.learnt_batch_cap());
    }
    if (config.items > 0 && config.items < static_cast<std::size_t>(cores)) {
      why += fmt::format("; {} item{}: no more workers than items, each with more cores", config.items,
                         config.items == 1 ? "" : "s");
    }
  }
  const std::string batch = pool.learnt_batch_cap() > 0 ? fmt::format("learnt, 1 to {}", pool.learnt_batch_cap())
                                                        : std::to_string(config.batch);
  return fmt::format("pool: {} worker{} ({}), batch {}, {} policy: {}", plan.size(), plan.size() == 1 ? "" : "s",
                     fmt::join(roles, "; "), batch, policy_name(pool.policy()), why);
}

void print_run_summary(const RunReport& report, const StreamSummary& done, const Pool& pool) {
  const auto& plan = pool.plan();
  const auto stats = pool.stats();
  const Times t = times_of(done, stats);
  const std::string kept = done.kept > 0 ? fmt::format(" (and {} kept from the earlier run)", done.kept) : "";
  fmt::print("{} item{} in {:.3f} s: {:.2f} items/s ({} worker{}, {} policy, batch {}){}\n", t.ran,
             t.ran == 1 ? "" : "s", done.seconds, static_cast<double>(t.ran) / done.seconds, plan.size(),
             plan.size() == 1 ? "" : "s", policy_name(pool.policy()), report.batch, kept);
  for (std::size_t w = 0; w < stats.size(); ++w) {
    fmt::print("  {:<8} {:<20} {:>5} items  {:>4} runs  busy {:.3f} s\n", stats[w].name, worker_role(plan[w]),
               stats[w].items, stats[w].runs, stats[w].busy_seconds);
  }
  // Where the time went: the calling thread's reading, waiting and writing, how busy the workers were,
  // and per item its wait in the queue and its run; a source or a disk that cannot keep up shows as
  // reading or writing with idle workers.
  fmt::print(
      "  time: reading {:.3f} s, waiting for results {:.3f} s, writing {:.3f} s; workers busy {:.0f}%; per item "
      "{:.2f} ms queued, {:.2f} ms running\n",
      done.read_seconds, done.wait_seconds, done.write_seconds, 100.0 * t.busy_share, t.queue_ms, t.running_ms);
}

void write_run_json(const std::filesystem::path& file, const RunReport& report, const StreamSummary& done,
                    const Pool& pool) {
  const auto& plan = pool.plan();
  const auto stats = pool.stats();
  const Times t = times_of(done, stats);
  nlohmann::json workers = nlohmann::json::array();
  for (std::size_t w = 0; w < stats.size(); ++w) {
    workers.push_back({{"name", stats[w].name},
                       {"what", worker_role(plan[w])},
                       {"items", stats[w].items},
                       {"runs", stats[w].runs},
                       {"failures", stats[w].failures},
                       {"busy_seconds", stats[w].busy_seconds},
                       {"queue_seconds", stats[w].queue_seconds}});
  }
  const nlohmann::json summary{
      {"model", report.model},
      {"items", report.items},
      {"done", done.items},
      {"kept", done.kept},
      {"failed", done.failed},
      {"stopped", done.stopped},
      {"interrupted", done.interrupted},
      {"seconds", done.seconds},
      {"items_per_s", done.seconds > 0.0 ? static_cast<double>(t.ran) / done.seconds : 0.0},
      {"time", {{"reading", done.read_seconds}, {"waiting", done.wait_seconds}, {"writing", done.write_seconds}}},
      {"workers_busy", t.busy_share},
      {"per_item_ms", {{"queued", t.queue_ms}, {"running", t.running_ms}}},
      {"policy", policy_name(pool.policy())},
      {"workers", workers},
      {"failures_file", report.failures_file}};
  const std::string text = summary.dump(2) + "\n";
  write_file_atomically(file, std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace onnxpool::cli
