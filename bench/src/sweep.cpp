// The tutorial's sweep: for each N, each strategy runs repN times over the first N images (the first run
// a discarded warm-up), its outputs checked against the reference strategy's.
#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "onnxpool/bench/measure.hpp"
#include "onnxpool/bench/strategies.hpp"
#include "onnxpool/pipeline/progress.hpp"
#include "onnxpool/runtime/worker.hpp"

namespace onnxpool::bench {
namespace {

// One strategy in the sweep: what runs, and what is reported about it.
struct Contender {
  StrategyKind kind;
  std::unique_ptr<Strategy> strategy;
  StrategyReport report;
};

// Checks `actual` against `expected`, item by item and output by output; accumulates the max errors into
// `report`; throws Error at the first mismatch.
void check_outputs(const std::vector<TensorSet>& expected, const std::vector<TensorSet>& actual, std::size_t n,
                   const std::string& reference, const SweepOptions& options, StrategyReport& report) {
  if (actual.size() != n) {
    throw Error(fmt::format("strategy {} returned {} results for N={} ({} returned {})", report.name, actual.size(), n,
                            reference, expected.size()));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (actual[i].size() != expected[i].size()) {
      throw Error(fmt::format("strategy {}, N={}, item {}: {} outputs, {} has {}", report.name, n, i, actual[i].size(),
                              reference, expected[i].size()));
    }
    for (std::size_t k = 0; k < expected[i].size(); ++k) {
      const Comparison c = compare(expected[i][k].tensor, actual[i][k].tensor, options.rtol, options.atol);
      report.max_abs_error = std::max(report.max_abs_error, c.max_abs_error);
      report.max_rel_error = std::max(report.max_rel_error, c.max_rel_error);
      if (!c.equal) {
        throw Error(fmt::format("strategy {}, N={}, item {}, output '{}' differs from {} (rtol {}, atol {}): {}",
                                report.name, n, i, expected[i][k].name, reference, options.rtol, options.atol,
                                c.problem));
      }
    }
  }
}

}  // namespace

SweepResult run_sweep(Runtime& runtime, const std::filesystem::path& model, const ModelInfo& info,
                      std::span<const TensorSet> images, const SweepOptions& options, Progress* progress) {
  if (options.repeat < 1) throw Error("the sweep needs repeat >= 1");
  if (options.workers < 1) throw Error("the sweep needs workers >= 1");
  const auto sizes = sweep_sizes(static_cast<std::size_t>(options.workers), options.max_n, options.step_n);
  if (images.size() < sizes.back()) {
    throw Error(fmt::format("the sweep needs {} items, {} given", sizes.back(), images.size()));
  }

  SweepResult result;
  result.options = options;
  result.n_imgs = images.size();

  std::vector<Contender> contenders;
  for (const StrategyKind kind : options.strategies) {
    auto strategy = make_strategy(kind, runtime, model, info, options.workers, options.pool);
    if (!strategy) {
      result.notes.push_back(fmt::format("{} skipped: {}", strategy_name(kind), batched_skip_reason(info)));
      continue;
    }
    StrategyReport report;
    report.name = std::string(strategy->name());
    contenders.push_back({.kind = kind, .strategy = std::move(strategy), .report = std::move(report)});
  }
  if (contenders.empty()) throw Error("no strategy can run this model");
  // The reference: sequence (or seq_cpu, its name in the tutorial's GPU runs) when selected, the
  // tutorial's baseline, else the first; it runs first at every N so the others are checked as they go.
  auto ref = std::find_if(contenders.begin(), contenders.end(),
                          [](const Contender& c) { return c.kind == StrategyKind::Sequence; });
  if (ref == contenders.end())
    ref = std::find_if(contenders.begin(), contenders.end(),
                       [](const Contender& c) { return c.kind == StrategyKind::SeqCpu; });
  if (ref != contenders.end() && ref != contenders.begin()) std::rotate(contenders.begin(), ref, ref + 1);
  result.reference = contenders.front().report.name;
  if (ref == contenders.end())
    result.notes.push_back(fmt::format("sequence not selected: outputs are checked against {}", result.reference));
  for (const auto& c : contenders) result.names.push_back(c.report.name);

  {
    // The tutorial's measure_time of one item on a default session, before the sweep.
    Worker worker(runtime, model, WorkerPlan{.name = "measure_time", .device = {}, .ort_defaults = true, .cores = {}});
    const TensorSet& first = images.front();
    static_cast<void>(worker.run(first));  // warm-up, as timeit's first call would otherwise pay it
    result.measure =
        measure_time([&] { static_cast<void>(worker.run(first)); }, options.measure_repeat, options.measure_number);
  }

  for (const std::size_t n : sizes) {
    const auto items = images.first(n);
    SweepRow row{.n = n, .timings = {}};
    std::vector<TensorSet> reference_outputs;
    for (std::size_t e = 0; e < contenders.size(); ++e) {
      Contender& contender = contenders[e];
      Strategy& strategy = *contender.strategy;
      // repN runs, the first a discarded warm-up (none when repN is 1).
      const std::size_t warmup = options.repeat > 1 ? 1 : 0;
      wait_for_quiet();  // the previous strategy's spinning threads would otherwise share the cores
      const auto times =
          measure({.prepare = [&](bool) { strategy.prepare(items); }, .run = [&](bool) { strategy.run(); }},
                  {.warmup = warmup, .timed = options.repeat - warmup, .stop = options.stop});
      // After a prepare(): the set-up then also says where a GPU worker's prepared inputs live.
      if (n == sizes.front()) contender.report.description = strategy.setup();
      auto outputs = strategy.outputs();
      if (e == 0) {
        if (outputs.size() != n) {
          throw Error(
              fmt::format("strategy {} returned {} results for N={}", contender.report.name, outputs.size(), n));
        }
        reference_outputs = std::move(outputs);
      } else {
        check_outputs(reference_outputs, outputs, n, result.reference, options, contender.report);
      }
      const Summary s = summarize(times);
      row.timings.push_back({.results = n, .seconds = s.mean, .stddev = s.stddev});
      if (n == sizes.back()) {
        contender.report.throughput = s.mean > 0.0 ? static_cast<double>(n) / s.mean : 0.0;
        contender.report.latency = summarize(strategy.latencies());
        contender.report.workers = strategy.shares();
      }
      if (progress != nullptr) progress->advance(fmt::format("{} N={}", contender.report.name, n));
    }
    result.rows.push_back(std::move(row));
  }
  for (auto& c : contenders) result.strategies.push_back(std::move(c.report));
  return result;
}

std::size_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) {
      try {
        return static_cast<std::size_t>(std::stoull(line.substr(6))) * 1024;  // "VmHWM:   12345 kB"
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 0;
}

}  // namespace onnxpool::bench
