// The configuration grid: measurement, the best configurations, and a row's fields for the printers
// (printers.hpp). The spec's parsing and the cross-product are in grid_spec.cpp.
#include "onnxpool/bench/grid.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "onnxpool/bench/measure.hpp"
#include "onnxpool/pipeline/progress.hpp"
#include "onnxpool/pool/pool.hpp"
#include "printers.hpp"
#include "summary_fields.hpp"

namespace onnxpool::bench {
namespace {

// A grid row's fields: the configuration as planned, then what it measured.
std::vector<Field<GridRow>> grid_fields() {
  std::vector<Field<GridRow>> fields{
      {.csv = "workers",
       .json = {"workers"},
       .table = "workers",
       .cell = {.width = 7},
       .value = [](const GridRow& r) -> Value { return r.workers; }},
      {.csv = "threads",
       .json = {"threads"},
       .table = "threads",
       .cell = {.width = 7},
       .value = [](const GridRow& r) -> Value { return r.threads; }},
      {.csv = "batch",
       .json = {"batch"},
       .table = "batch",
       .cell = {.width = 5},
       .value = [](const GridRow& r) -> Value { return r.config.batch; }},
      {.csv = "policy",
       .json = {"policy"},
       .table = "policy",
       .cell = {.width = 7},
       .value = [](const GridRow& r) -> Value { return std::string(policy_name(r.config.policy)); }},
      {.csv = "pin",  // on/off in the CSV and the table, true/false in JSON
       .json = {"pin"},
       .table = "pin",
       .cell = {.width = 4},
       .value = [](const GridRow& r) -> Value { return r.config.pin; }},
      {.csv = "items",
       .json = {"items"},
       .table = "items",
       .cell = {.width = 6},
       .value = [](const GridRow& r) -> Value { return r.items; }},
      {.csv = "seconds",
       .csv_spec = ".6g",
       .json = {"seconds"},
       .value = [](const GridRow& r) -> Value { return r.seconds; }},
      {.csv = "items_per_s",
       .csv_spec = ".6g",
       .json = {"items_per_s"},
       .table = "items/s",
       .cell = {.width = 10, .spec = ".2f"},
       .value = [](const GridRow& r) -> Value { return r.throughput; }},
  };
  add_summary_fields<GridRow>(fields, "latency", "latency",
                              [](const GridRow& r) -> const Summary& { return r.latency; });
  return fields;
}

}  // namespace

std::vector<GridRow> run_grid(Runtime& runtime, const std::filesystem::path& model, std::span<const TensorSet> items,
                              std::span<const PoolConfig> configs, const GridBudget& budget, Progress* progress) {
  if (items.empty()) throw Error("the grid needs at least one item");
  std::vector<GridRow> rows;
  for (const auto& config : configs) {
    // The pool itself, as `run` makes it: its plan says how many workers and threads it got.
    Pool pool(runtime, model, config);
    const auto& plan = pool.plan();
    // Untimed warm-up passes, then passes of every item until the item count or the duration is reached;
    // each timed pass's per-item service times are kept.
    std::vector<double> latencies;
    std::vector<double> service(items.size());
    const auto pass_seconds =
        measure({.run = [&](bool) { static_cast<void>(pool.run(items, service)); },
                 .record = [&] { latencies.insert(latencies.end(), service.begin(), service.end()); }},
                {.warmup = budget.warmup, .timed = 1, .duration = budget.duration, .stop = budget.stop});
    const std::size_t done = pass_seconds.size() * items.size();
    const double seconds = std::accumulate(pass_seconds.begin(), pass_seconds.end(), 0.0);

    GridRow row{.config = config,
                .workers = static_cast<int>(plan.size()),
                .threads = plan.front().threads,
                .items = done,
                .seconds = seconds,
                .throughput = seconds > 0.0 ? static_cast<double>(done) / seconds : 0.0,
                .latency = summarize(latencies)};
    if (progress != nullptr) {
      progress->advance(fmt::format("workers={} threads={} batch={}: {:.1f} items/s", row.workers, row.threads,
                                    config.batch, row.throughput));
    }
    rows.push_back(row);
  }
  return rows;
}

std::size_t best_throughput(std::span<const GridRow> rows) {
  if (rows.empty()) throw Error("no configuration measured");
  std::size_t best = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].throughput > rows[best].throughput) best = i;
  }
  return best;
}

std::size_t best_latency(std::span<const GridRow> rows) {
  if (rows.empty()) throw Error("no configuration measured");
  std::size_t best = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].latency.p50 < rows[best].latency.p50) best = i;
  }
  return best;
}

std::string run_command(const std::string& model, const GridRow& row) {
  std::string command =
      fmt::format("onnxpool run {} --random {} --workers {} --threads {} --batch {} --policy {}", model, row.items,
                  row.workers, row.threads, row.config.batch, policy_name(row.config.policy));
  if (row.config.pin) command += " --pin";
  return command;
}

std::string grid_csv(std::span<const GridRow> rows) {
  return csv(grid_fields(), rows);
}

std::string grid_json(std::span<const GridRow> rows, const std::string& model, const GridBudget& budget) {
  nlohmann::json j;
  j["model"] = model;
  j["budget"] = {{"items", budget.items}, {"duration", budget.duration}, {"warmup", budget.warmup}};
  j["configs"] = json_records(grid_fields(), rows);
  if (!rows.empty()) {
    j["best_throughput"] = best_throughput(rows);
    j["best_latency"] = best_latency(rows);
  }
  return j.dump(2) + "\n";
}

std::string grid_table(std::span<const GridRow> rows) {
  return table(grid_fields(), rows);
}

}  // namespace onnxpool::bench
