#pragma once
// A Summary's fields, declared once for the grid's latency and the sweep's latency_at_max_n.
#include <functional>
#include <string>
#include <vector>

#include "onnxpool/bench/stats.hpp"
#include "printers.hpp"

namespace onnxpool::bench {

// Every statistic in JSON as an object under `json_key`; p50, p90 and p99 in the table, in ms; p50,
// p90, p99 and the mean as CSV columns `<csv_prefix>_p50`... in that order, the grid CSV's, when
// `csv_prefix` is given.
template <class Row>
void add_summary_fields(std::vector<Field<Row>>& fields, const std::string& json_key, const std::string& csv_prefix,
                        std::function<const Summary&(const Row&)> summary) {
  const auto add = [&](const std::string& name, auto member, bool in_csv, bool in_table) {
    fields.push_back({.csv = in_csv && !csv_prefix.empty() ? csv_prefix + "_" + name : "",
                      .csv_spec = ".6g",
                      .json = {json_key, name},
                      .table = in_table ? name + " ms" : "",
                      .cell = {.width = 9, .spec = ".3f", .scale = 1e3},
                      .value = [summary, member](const Row& row) -> Value { return summary(row).*member; }});
  };
  add("p50", &Summary::p50, true, true);
  add("p90", &Summary::p90, true, true);
  add("p99", &Summary::p99, true, true);
  add("mean", &Summary::mean, true, false);
  add("count", &Summary::count, false, false);
  add("stddev", &Summary::stddev, false, false);
  add("min", &Summary::min, false, false);
  add("max", &Summary::max, false, false);
}

}  // namespace onnxpool::bench
