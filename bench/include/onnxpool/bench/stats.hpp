#pragma once
// Statistics of timing samples for `onnxpool bench`: mean, deviation, extremes and percentiles, and the
// tutorial's measure_time (timeit-style: `repeat` rounds of `number` calls, time per call).
#include <cstddef>
#include <functional>
#include <span>

namespace onnxpool::bench {

struct Summary {
  std::size_t count = 0;
  double mean = 0.0;
  double stddev = 0.0;  // population deviation (numpy's default std, as the tutorial's measure_time)
  double min = 0.0;
  double max = 0.0;
  double p50 = 0.0;
  double p90 = 0.0;
  double p99 = 0.0;
};

// The p-th percentile (0 <= p <= 100) with linear interpolation between closest ranks (numpy's default
// "linear" method). Throws Error on no samples or p outside [0, 100].
double percentile(std::span<const double> samples, double p);
// All zero for no samples.
Summary summarize(std::span<const double> samples);

// What the tutorial's measure_time returns: seconds per call.
struct MeasureTime {
  double average = 0.0;
  double deviation = 0.0;
  double min_exec = 0.0;
  double max_exec = 0.0;
  int repeat = 0;
  int number = 0;
};
// Calls `call` number times per round, `repeat` rounds; each round's time divided by `number` is one
// sample. Throws Error when repeat or number < 1.
MeasureTime measure_time(const std::function<void()>& call, int repeat, int number);

}  // namespace onnxpool::bench
