// Issue 10's latency target: items arriving one at a time, with gaps (a server-like trickle), through the
// automatic pool against one session at ONNX Runtime's default threading on the calling thread (what a
// user without onnxpool would run). Each item's latency is from its submission to its result in hand.
//
//   onnxpool_trickle_bench MODEL [--items K] [--gap-ms G] [--runs R] [--dim NAME=VALUE ...]
//
// R runs; in each, the contenders (the session, the pool's run() of one item, its submit().get()) take
// turns in blocks of K items, in an order that rotates from run to run, with G ms of sleep before every
// item. Printed: each run's p50 latencies, then the medians over runs and the median ratios to the
// session; the target is <= 1.05. It also prints, as a control, which of the pool's workers ran the
// items (a trickle should run on the wide one).
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "onnxpool/bench/measure.hpp"
#include "onnxpool/bench/stats.hpp"
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

double median(const std::vector<double>& values) {
  return onnxpool::bench::percentile(values, 50.0);
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
  return median(latencies);
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
    // A request handler's two ways to the pool: run() of its one item (the caller runs it when a worker
    // is free: no thread hand-off) and submit().get() (handed to a worker's thread and back).
    struct Contender {
      std::string name;
      std::function<void(const TensorSet&)> run;
      std::vector<double> p50s;
    };
    std::vector<Contender> contenders;
    contenders.push_back({"session", [&](const TensorSet& item) { static_cast<void>(session.run(item)); }, {}});
    contenders.push_back(
        {"pool.run", [&](const TensorSet& item) { static_cast<void>(pool.run(std::span(&item, 1))); }, {}});
    contenders.push_back(
        {"pool.submit", [&](const TensorSet& item) { static_cast<void>(pool.submit(item).get()); }, {}});
    // Warm-up: each runs every item once, unmeasured (arenas, caches, the pool's paces).
    for (const TensorSet& item : items) {
      for (auto& c : contenders) c.run(item);
    }
    pool.reset_stats();

    fmt::print("# onnxpool_trickle_bench {}: {} items per block, {:.1f} ms apart, {} runs (p50 latency, ms)\n",
               options.model.filename().string(), options.items, options.gap_ms, options.runs);
    fmt::print("{:>4} {:>12} {:>12} {:>12}\n", "run", "session", "pool.run", "pool.submit");
    for (std::size_t r = 0; r < options.runs; ++r) {
      // The order rotates from run to run, so that none always follows the same one.
      for (std::size_t k = 0; k < contenders.size(); ++k) {
        Contender& c = contenders[(k + r) % contenders.size()];
        onnxpool::bench::wait_for_quiet();  // the previous contender's spinning threads would share the cores
        c.p50s.push_back(trickle_p50(items, options.gap_ms, c.run));
      }
      fmt::print("{:>4} {:>12.3f} {:>12.3f} {:>12.3f}\n", r + 1, contenders[0].p50s.back(), contenders[1].p50s.back(),
                 contenders[2].p50s.back());
    }
    const auto ratio = [&](std::size_t c) {
      std::vector<double> ratios;
      for (std::size_t r = 0; r < options.runs; ++r) ratios.push_back(contenders[c].p50s[r] / contenders[0].p50s[r]);
      return median(ratios);
    };
    fmt::print(
        "median p50: session {:.3f} ms, pool.run {:.3f} ms ({:.3f}x), pool.submit {:.3f} ms ({:.3f}x); "
        "target <= 1.05x\n",
        median(contenders[0].p50s), median(contenders[1].p50s), ratio(1), median(contenders[2].p50s), ratio(2));
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
