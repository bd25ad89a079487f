#include "onnxpool/bench/measure.hpp"

#include <chrono>

#include "onnxpool/error.hpp"

namespace onnxpool::bench {

std::vector<double> measure(const Pass& pass, const Repetitions& repetitions) {
  if (repetitions.timed == 0 && !(repetitions.duration > 0.0)) throw Error("a measurement needs a timed pass");
  const auto check_stop = [&] {
    if (repetitions.stop != nullptr && repetitions.stop->load()) throw Interrupted();
  };
  for (std::size_t w = 0; w < repetitions.warmup; ++w) {
    check_stop();
    if (pass.prepare) pass.prepare(true);
    pass.run(true);
  }
  std::vector<double> seconds;
  double total = 0.0;
  while (seconds.size() < repetitions.timed || (repetitions.duration > 0.0 && total < repetitions.duration)) {
    check_stop();
    if (pass.prepare) pass.prepare(false);
    const auto start = std::chrono::steady_clock::now();
    pass.run(false);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    total += seconds.back();
    if (pass.record) pass.record();
  }
  return seconds;
}

}  // namespace onnxpool::bench
