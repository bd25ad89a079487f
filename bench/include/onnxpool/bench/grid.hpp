#pragma once
// `onnxpool bench MODEL --grid workers=1,2,4 threads=1,2 batch=1,4,8`: the cross-product of pool
// configurations (llama-bench style: each key takes a list or a range), each measured for throughput
// and per-item latency; --best picks the fastest for each.
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/bench/stats.hpp"
#include "onnxpool/bench/strategies.hpp"

namespace onnxpool::bench {

// One key of the grid and its values, e.g. {"threads", {"1","2","3","4"}} from "threads=1-4".
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
};
// Keys: workers, threads, batch (positive integers: lists "1,2,4", ranges "1-4" or "1..4", mixed
// "1,4-6"), policy (static, dynamic), pin (on, off). Throws Error naming the key (or the text) when the
// spec is malformed, the key unknown or a value invalid.
GridAxis parse_grid_axis(std::string_view spec);
// The cross-product, the first axis varying slowest; keys not given keep `base`'s value. A key given
// twice throws Error.
std::vector<PoolConfig> expand_grid(std::span<const GridAxis> axes, const PoolConfig& base);

// How much each configuration runs: a fixed item count, or items until `duration` seconds passed.
struct GridBudget {
  std::size_t items = 64;
  double duration = 0.0;                    // > 0: run for this long instead (at least one pass of the items)
  std::size_t warmup = 1;                   // untimed passes before measuring (first-run allocations, thread start)
  const std::atomic<bool>* stop = nullptr;  // set: the grid ends with Interrupted before its next pass
};

struct GridRow {
  PoolConfig config;  // as asked (0 = automatic)
  int workers = 0;    // as planned
  int threads = 0;
  std::size_t items = 0;  // items measured
  double seconds = 0.0;
  double throughput = 0.0;  // items/s
  Summary latency;          // per-item service latency (seconds)
};

std::vector<GridRow> run_grid(Runtime& runtime, const std::filesystem::path& model, std::span<const TensorSet> items,
                              std::span<const PoolConfig> configs, const GridBudget& budget, Progress* progress);

// Index of the row with the highest throughput / the lowest median latency (first on ties). Throws Error
// on no rows.
std::size_t best_throughput(std::span<const GridRow> rows);
std::size_t best_latency(std::span<const GridRow> rows);
// The `onnxpool run` command line that runs MODEL with that configuration.
std::string run_command(const std::string& model, const GridRow& row);

std::string grid_csv(std::span<const GridRow> rows);
std::string grid_json(std::span<const GridRow> rows, const std::string& model, const GridBudget& budget);
std::string grid_table(std::span<const GridRow> rows);

}  // namespace onnxpool::bench
