#pragma once
// JSON of the bench's statistics, shared by the sweep's and the grid's writers.
#include <nlohmann/json.hpp>

#include "onnxpool/bench_stats.hpp"

namespace onnxpool::bench {

inline nlohmann::json summary_json(const Summary& s) {
  return {{"count", s.count}, {"mean", s.mean}, {"stddev", s.stddev}, {"min", s.min},
          {"max", s.max},     {"p50", s.p50},   {"p90", s.p90},       {"p99", s.p99}};
}

}  // namespace onnxpool::bench
