// The configuration grid: spec parsing, the cross-product, measurement and the best configurations.
#include "onnxpool/bench_grid.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_json.hpp"
#include "onnxpool/bench_progress.hpp"
#include "onnxpool/cpu.hpp"

namespace onnxpool::bench {
namespace {

using Clock = std::chrono::steady_clock;

const std::vector<std::string_view> kKeys{"workers", "threads", "batch", "policy", "pin"};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

long long positive(std::string_view key, std::string_view text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 4096) {
    throw Error(fmt::format("--grid {}: '{}' is not a positive integer", key, text));
  }
  return value;
}

// "4", "1-4", "1..4" -> the integers.
void expand_integers(std::string_view key, std::string_view item, std::vector<std::string>& out) {
  std::size_t dash = item.find("..");
  std::size_t width = 2;
  if (dash == std::string_view::npos) {
    dash = item.find('-');
    width = 1;
  }
  if (dash == std::string_view::npos) {
    out.push_back(std::to_string(positive(key, item)));
    return;
  }
  const long long low = positive(key, item.substr(0, dash));
  const long long high = positive(key, item.substr(dash + width));
  if (high < low) throw Error(fmt::format("--grid {}: range '{}' runs backwards", key, item));
  for (long long v = low; v <= high; ++v) out.push_back(std::to_string(v));
}

}  // namespace

GridAxis parse_grid_axis(std::string_view spec) {
  const std::size_t eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    throw Error(fmt::format("--grid '{}': expected KEY=VALUES (e.g. workers=1,2,4 or threads=1-4)", spec));
  }
  GridAxis axis{.key = std::string(spec.substr(0, eq)), .values = {}};
  if (std::find(kKeys.begin(), kKeys.end(), axis.key) == kKeys.end()) {
    throw Error(fmt::format("--grid: unknown key '{}' (expected {})", axis.key, fmt::join(kKeys, ", ")));
  }
  for (const std::string_view item : split(spec.substr(eq + 1), ',')) {
    if (item.empty()) throw Error(fmt::format("--grid {}: empty value in '{}'", axis.key, spec));
    if (axis.key == "policy") {
      static_cast<void>(parse_policy(item));  // throws naming the policy
      axis.values.emplace_back(item);
    } else if (axis.key == "pin") {
      if (item != "on" && item != "off") throw Error(fmt::format("--grid pin: '{}' is not on or off", item));
      axis.values.emplace_back(item);
    } else {
      expand_integers(axis.key, item, axis.values);
    }
  }
  return axis;
}

std::vector<PoolConfig> expand_grid(std::span<const GridAxis> axes, const PoolConfig& base) {
  for (std::size_t i = 0; i < axes.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      if (axes[i].key == axes[k].key) throw Error(fmt::format("--grid: key '{}' given twice", axes[i].key));
    }
  }
  std::vector<PoolConfig> configs{base};
  for (const auto& axis : axes) {
    std::vector<PoolConfig> next;
    for (const auto& config : configs) {
      for (const auto& value : axis.values) {
        PoolConfig c = config;
        if (axis.key == "workers")
          c.workers = std::stoi(value);
        else if (axis.key == "threads")
          c.threads = std::stoi(value);
        else if (axis.key == "batch")
          c.batch = std::stoul(value);
        else if (axis.key == "policy")
          c.policy = parse_policy(value);
        else if (axis.key == "pin")
          c.pin = value == "on";
        next.push_back(c);
      }
    }
    configs = std::move(next);
  }
  return configs;
}

std::vector<GridRow> run_grid(Runtime& runtime, const std::filesystem::path& model, const ModelInfo& info,
                              std::span<const TensorSet> items, std::span<const PoolConfig> configs,
                              const GridBudget& budget, Progress* progress) {
  if (items.empty()) throw Error("--grid needs at least one item");
  std::vector<GridRow> rows;
  for (const auto& config : configs) {
    PoolOptions planned;
    planned.workers = config.workers;
    planned.threads = config.threads;
    planned.devices = config.devices;
    const auto plan = plan_workers(planned, CpuTopology::detect());

    auto strategy = make_pool_strategy(runtime, model, info, config);
    std::vector<double> latencies;
    for (std::size_t w = 0; w < budget.warmup; ++w) {
      strategy->prepare(items);
      strategy->run();
    }
    std::size_t done = 0;
    double seconds = 0.0;
    do {
      strategy->prepare(items);
      const auto start = Clock::now();
      strategy->run();
      seconds += std::chrono::duration<double>(Clock::now() - start).count();
      done += items.size();
      const auto pass = strategy->latencies();
      latencies.insert(latencies.end(), pass.begin(), pass.end());
    } while (budget.duration > 0.0 && seconds < budget.duration);

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
  std::string out =
      "workers,threads,batch,policy,pin,items,seconds,items_per_s,latency_p50,latency_p90,latency_p99,latency_mean\n";
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", r.workers, r.threads,
                       r.config.batch, policy_name(r.config.policy), r.config.pin ? "on" : "off", r.items, r.seconds,
                       r.throughput, r.latency.p50, r.latency.p90, r.latency.p99, r.latency.mean);
  }
  return out;
}

std::string grid_json(std::span<const GridRow> rows, const std::string& model, const GridBudget& budget) {
  nlohmann::json j;
  j["model"] = model;
  j["budget"] = {{"items", budget.items}, {"duration", budget.duration}, {"warmup", budget.warmup}};
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : rows) {
    list.push_back({{"workers", r.workers},
                    {"threads", r.threads},
                    {"batch", r.config.batch},
                    {"policy", policy_name(r.config.policy)},
                    {"pin", r.config.pin},
                    {"items", r.items},
                    {"seconds", r.seconds},
                    {"items_per_s", r.throughput},
                    {"latency", summary_json(r.latency)}});
  }
  j["configs"] = list;
  if (!rows.empty()) {
    j["best_throughput"] = best_throughput(rows);
    j["best_latency"] = best_latency(rows);
  }
  return j.dump(2) + "\n";
}

std::string grid_table(std::span<const GridRow> rows) {
  std::string out = fmt::format("{:>7} {:>7} {:>5} {:>7} {:>4} {:>6} {:>10} {:>9} {:>9} {:>9}\n", "workers", "threads",
                                "batch", "policy", "pin", "items", "items/s", "p50 ms", "p90 ms", "p99 ms");
  for (const auto& r : rows) {
    out += fmt::format("{:>7} {:>7} {:>5} {:>7} {:>4} {:>6} {:>10.2f} {:>9.3f} {:>9.3f} {:>9.3f}\n", r.workers,
                       r.threads, r.config.batch, policy_name(r.config.policy), r.config.pin ? "on" : "off", r.items,
                       r.throughput, r.latency.p50 * 1e3, r.latency.p90 * 1e3, r.latency.p99 * 1e3);
  }
  return out;
}

}  // namespace onnxpool::bench
