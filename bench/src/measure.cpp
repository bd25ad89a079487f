#include "onnxpool/bench/measure.hpp"

#include <chrono>
#include <ctime>
#include <thread>

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

namespace onnxpool::bench {

double wait_for_quiet(double limit) {
  const auto cpu_seconds = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  };
  constexpr double window = 5e-3;
  constexpr double quiet_share = 0.2;  // of one core: a thread spinning uses all of one
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const double before = cpu_seconds();
    const auto window_start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(window));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (cpu_seconds() - before < quiet_share * wall || waited >= limit) return waited;
  }
}

}  // namespace onnxpool::bench
