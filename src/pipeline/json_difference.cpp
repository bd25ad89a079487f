#include "pipeline/json_difference.hpp"

#include <algorithm>
#include <vector>

namespace onnxpool {
namespace {

// A value for a message: its JSON, cut short.
std::string shown(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

JsonDifference difference_below(const nlohmann::json& was, const nlohmann::json& is, const std::string& prefix) {
  if (was.is_object() && is.is_object()) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : was.items()) keys.push_back(key);
    for (const auto& [key, value] : is.items()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (const auto& key : keys) {
      const nlohmann::json old_value = was.contains(key) ? was[key] : nlohmann::json();
      const nlohmann::json new_value = is.contains(key) ? is[key] : nlohmann::json();
      if (old_value != new_value) return difference_below(old_value, new_value, prefix + key + ".");
    }
  }
  const std::string field = prefix.empty() ? "identity" : prefix.substr(0, prefix.size() - 1);
  return {.field = field, .was = shown(was), .is = shown(is)};
}

}  // namespace

JsonDifference first_difference(const nlohmann::json& was, const nlohmann::json& is) {
  return difference_below(was, is, {});
}

}  // namespace onnxpool
