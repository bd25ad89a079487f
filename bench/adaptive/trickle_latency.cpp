// Issue 10's latency target: items arriving one at a time, with gaps (a server-like trickle), through the
// automatic pool against one session at ONNX Runtime's default threading on the calling thread (what a
// user without onnxpool would run). Each item's latency is from its submission to its result in hand.
//
//   onnxpool_trickle_bench MODEL [--items K] [--gap-ms G] [--runs R] [--dim NAME=VALUE ...]
//
// R runs; in each, the two contenders alternate in blocks of K items (session first in odd runs, pool
// first in even ones), with G ms of sleep before every item. Printed: each run's p50 latency of both and
// their ratio, then the medians over runs; the target is pool / session <= 1.05. It also prints, as a
// control, which of the pool's workers ran the items (a trickle should run on the wide one).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "onnxpool/error.hpp"
#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/runtime/worker.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using onnxpool::TensorSet;

struct Options {
  std::filesystem::path model;
  std::size_t items = 200;
  double gap_ms = 20.0;
  std::size_t runs = 5;
  onnxpool::DimBindings dims;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw onnxpool::Error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--items") {
      options.items = std::stoul(value());
    } else if (arg == "--gap-ms") {
      options.gap_ms = std::stod(value());
    } else if (arg == "--runs") {
      options.runs = std::stoul(value());
    } else if (arg == "--dim") {
      options.dims.bind_dim(value());
    } else if (options.model.empty() && !arg.starts_with("-")) {
      options.model = arg;
    } else {
      throw onnxpool::Error("unknown argument '" + arg + "'");
    }
  }
  if (options.model.empty())
    throw onnxpool::Error("usage: onnxpool_trickle_bench MODEL [--items K] [--gap-ms G] [--runs R]");
  if (options.items == 0 || options.runs == 0) throw onnxpool::Error("--items and --runs must be >= 1");
  return options;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

// One block of the trickle: sleep the gap, then time `run(item)`; returns the block's p50 in ms.
template <class Run>
double trickle_p50(const std::vector<TensorSet>& items, double gap_ms, Run&& run) {
  std::vector<double> latencies;
  latencies.reserve(items.size());
  for (const TensorSet& item : items) {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(gap_ms));
    const auto start = Clock::now();
    run(item);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return median(std::move(latencies));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    onnxpool::Runtime runtime;
    const onnxpool::ModelInfo info = onnxpool::inspect_model(runtime, options.model);
    std::vector<TensorSet> items;
    for (std::size_t i = 0; i < options.items; ++i) items.push_back(onnxpool::random_inputs(info, options.dims, i));

    onnxpool::Worker session(runtime, options.model,
                             onnxpool::WorkerPlan{.name = "session", .device = {}, .ort_defaults = true});
    onnxpool::Pool pool(runtime, options.model, onnxpool::PoolConfig{});
    const auto run_session = [&](const TensorSet& item) { static_cast<void>(session.run(item)); };
    const auto run_pool = [&](const TensorSet& item) { static_cast<void>(pool.submit(item).get()); };
    // Warm-up: both run every item once, unmeasured (arenas, caches, the pool's paces).
    for (const TensorSet& item : items) {
      run_session(item);
      run_pool(item);
    }
    pool.reset_stats();

    fmt::print("# onnxpool_trickle_bench {}: {} items per block, {:.1f} ms apart, {} runs\n",
               options.model.filename().string(), options.items, options.gap_ms, options.runs);
    fmt::print("{:>4} {:>14} {:>14} {:>8}\n", "run", "session p50 ms", "pool p50 ms", "ratio");
    std::vector<double> sessions;
    std::vector<double> pools;
    std::vector<double> ratios;
    for (std::size_t r = 0; r < options.runs; ++r) {
      double s = 0.0;
      double p = 0.0;
      if (r % 2 == 0) {
        s = trickle_p50(items, options.gap_ms, run_session);
        p = trickle_p50(items, options.gap_ms, run_pool);
      } else {
        p = trickle_p50(items, options.gap_ms, run_pool);
        s = trickle_p50(items, options.gap_ms, run_session);
      }
      sessions.push_back(s);
      pools.push_back(p);
      ratios.push_back(p / s);
      fmt::print("{:>4} {:>14.3f} {:>14.3f} {:>8.3f}\n", r + 1, s, p, p / s);
    }
    fmt::print("median: session {:.3f} ms, pool {:.3f} ms, pool / session {:.3f} (target <= 1.05)\n", median(sessions),
               median(pools), median(ratios));
    std::string where;
    for (const auto& stats : pool.stats()) where += fmt::format(" {} {}", stats.name, stats.items);
    fmt::print("pool items per worker:{} ({} workers: {})\n", where, pool.size(),
               pool.plan().back().width > 0 ? "the last is the wide one" : "no wide worker");
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "onnxpool_trickle_bench: error: {}\n", e.what());
    return 1;
  }
}
