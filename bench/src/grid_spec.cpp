// The grid's spec (`--grid workers=1,2,4 threads=1-4 ...`, grid.hpp): each axis parsed from its text, and
// the cross-product of the axes. Apart from the measurement so that it can be tested and fuzzed without
// ONNX Runtime. The spec is the user's text, newlines and all: a message quoting it goes through one_line.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/one_line.hpp"
#include "common/split.hpp"
#include "onnxpool/bench/grid.hpp"

namespace onnxpool::bench {
namespace {

const std::vector<std::string_view> kKeys{"workers", "threads", "batch", "policy", "pin"};

long long positive(std::string_view key, std::string_view text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 4096) {
    throw Error(one_line(fmt::format("{}: '{}' is not an integer from 1 to 4096", key, text)));
  }
  return value;
}

// "4", "1-4", "1..4" -> the integers.
void expand_integers(std::string_view key, std::string_view item, std::vector<std::string>& out) {
  std::size_t dash = item.find("..");
  std::size_t width = 2;
  if (dash == std::string_view::npos) {
    dash = item.find('-');
    width = 1;
  }
  if (dash == std::string_view::npos) {
    out.push_back(std::to_string(positive(key, item)));
    return;
  }
  const long long low = positive(key, item.substr(0, dash));
  const long long high = positive(key, item.substr(dash + width));
  if (high < low) throw Error(one_line(fmt::format("{}: range '{}' runs backwards", key, item)));
  for (long long v = low; v <= high; ++v) out.push_back(std::to_string(v));
}

}  // namespace

GridAxis parse_grid_axis(std::string_view spec) {
  const std::size_t eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    throw Error(one_line(fmt::format("'{}': expected KEY=VALUES (e.g. workers=1,2,4 or threads=1-4)", spec)));
  }
  GridAxis axis{.key = std::string(spec.substr(0, eq)), .values = {}};
  if (std::find(kKeys.begin(), kKeys.end(), axis.key) == kKeys.end()) {
    throw Error(one_line(fmt::format("unknown key '{}' (expected {})", axis.key, fmt::join(kKeys, ", "))));
  }
  for (const std::string_view item : split_list(spec.substr(eq + 1))) {
    if (item.empty()) throw Error(one_line(fmt::format("{}: empty value in '{}'", axis.key, spec)));
    if (axis.key == "policy") {
      static_cast<void>(parse_policy(item));  // throws naming the policy
      axis.values.emplace_back(item);
    } else if (axis.key == "pin") {
      if (item != "on" && item != "off") throw Error(one_line(fmt::format("pin: '{}' is not on or off", item)));
      axis.values.emplace_back(item);
    } else {
      expand_integers(axis.key, item, axis.values);
    }
  }
  return axis;
}

std::vector<PoolConfig> expand_grid(std::span<const GridAxis> axes, const PoolConfig& base) {
  for (std::size_t i = 0; i < axes.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      if (axes[i].key == axes[k].key) throw Error(fmt::format("key '{}' given twice", axes[i].key));
    }
  }
  std::vector<PoolConfig> configs{base};
  for (const auto& axis : axes) {
    std::vector<PoolConfig> next;
    for (const auto& config : configs) {
      for (const auto& value : axis.values) {
        PoolConfig c = config;
        if (axis.key == "workers")
          c.workers = std::stoi(value);
        else if (axis.key == "threads")
          c.threads = std::stoi(value);
        else if (axis.key == "batch")
          c.batch = std::stoul(value);
        else if (axis.key == "policy")
          c.policy = parse_policy(value);
        else if (axis.key == "pin")
          c.pin = value == "on";
        next.push_back(c);
      }
    }
    configs = std::move(next);
  }
  return configs;
}

}  // namespace onnxpool::bench
