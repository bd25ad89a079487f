#pragma once
// The one measurement loop of `onnxpool bench` and `onnxpool run --warmup`, as onnxruntime_perf_test's
// PerformanceRunner has one (RunOneIteration<isWarmup>, RunRepeatedTimes, RunFixDuration): the sweep,
// the grid, `bench --memory`, `run --warmup` and the tutorial's measure_time differ only in what a pass
// does and how many passes they make, so they time passes the same way.
#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool::bench {

// What one pass does. `prepare` readies it (OrtValue views, pre-allocated outputs) and `record` collects
// what it produced (per-item latencies): both untimed, so only `run` is measured. Warm-up passes call
// prepare and run with warmup = true (a caller may warm up on fewer items) and are neither timed nor
// recorded.
struct Pass {
  std::function<void(bool warmup)> prepare = {};  // may be empty
  std::function<void(bool warmup)> run;
  std::function<void()> record = {};  // may be empty
};

// How many passes: `warmup` untimed ones, then `timed` timed ones and, when `duration` > 0, more until
// the timed ones add up to `duration` seconds.
// `stop`, when given, is read before each pass: set (by a signal), the measurement ends with Interrupted.
struct Repetitions {
  std::size_t warmup = 0;
  std::size_t timed = 1;
  double duration = 0.0;
  const std::atomic<bool>* stop = nullptr;
};

// A measurement ended by its stop flag before its passes were done. Thrown, so that everything the
// benchmark made for it (pools, their scratch folders) is undone on the way out, and nothing is written.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted") {}
};

// Runs the passes; returns each timed pass's seconds, in order. Throws Error when no pass would be
// timed (timed 0 without a duration), Interrupted when stopped.
std::vector<double> measure(const Pass& pass, const Repetitions& repetitions);

// Waits until this process's threads are quiet (they used under a fifth of one core over the last 5 ms)
// or `limit` seconds have passed; returns the seconds waited. Why: a session at ONNX Runtime's default
// threading keeps its intra-op threads spinning for tens of milliseconds after each run, so a strategy
// measured right after another would share the cores with the other's spinning threads, a cost the
// strategy itself never causes. The sweep and the grid call it before each measurement.
double wait_for_quiet(double limit = 1.0);

}  // namespace onnxpool::bench
