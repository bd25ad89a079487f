#include "onnxpool/bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "onnxpool/bench/measure.hpp"
#include "onnxpool/error.hpp"

namespace onnxpool::bench {
namespace {

double sorted_percentile(const std::vector<double>& sorted, double p) {
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(rank));
  const std::size_t high = std::min(low + 1, sorted.size() - 1);
  const double fraction = rank - static_cast<double>(low);
  return sorted[low] + (sorted[high] - sorted[low]) * fraction;
}

}  // namespace

double percentile(std::span<const double> samples, double p) {
  if (samples.empty()) throw Error("percentile of no samples");
  if (!(p >= 0.0 && p <= 100.0)) throw Error(fmt::format("percentile {} is outside [0, 100]", p));
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted_percentile(sorted, p);
}

Summary summarize(std::span<const double> samples) {
  Summary s;
  if (samples.empty()) return s;
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  s.count = sorted.size();
  double sum = 0.0;
  for (double v : sorted) sum += v;
  s.mean = sum / static_cast<double>(s.count);
  double squares = 0.0;
  for (double v : sorted) squares += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(squares / static_cast<double>(s.count));
  s.min = sorted.front();
  s.max = sorted.back();
  s.p50 = sorted_percentile(sorted, 50.0);
  s.p90 = sorted_percentile(sorted, 90.0);
  s.p99 = sorted_percentile(sorted, 99.0);
  return s;
}

MeasureTime measure_time(const std::function<void()>& call, int repeat, int number) {
  if (repeat < 1 || number < 1)
    throw Error(fmt::format("measure_time needs repeat and number >= 1, not {} and {}", repeat, number));
  // timeit's rounds: each timed pass is `number` calls.
  const auto round = [&](bool) {
    for (int i = 0; i < number; ++i) call();
  };
  std::vector<double> samples = measure({.run = round}, {.timed = static_cast<std::size_t>(repeat)});
  for (double& sample : samples) sample /= number;
  const Summary s = summarize(samples);
  return {.average = s.mean,
          .deviation = s.stddev,
          .min_exec = s.min,
          .max_exec = s.max,
          .repeat = repeat,
          .number = number};
}

}  // namespace onnxpool::bench
