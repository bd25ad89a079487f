#include "onnxpool/pool/tuned_config.hpp"

#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/one_line.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {
namespace {

using nlohmann::json;

// `object[key]` as T, or an Error naming the file and the key.
template <class T>
T take(const json& object, const char* key, const std::string& source, const char* what) {
  const auto found = object.find(key);
  if (found == object.end()) throw Error(fmt::format("{}: no \"{}\" ({})", source, key, what));
  try {
    return found->get<T>();
  } catch (const json::exception&) {
    throw Error(fmt::format("{}: \"{}\" is {}, not {}", source, key, one_line(found->dump()), what));
  }
}

// A count in [lo, hi], or an Error naming it.
std::int64_t count(const json& object, const char* key, const std::string& source, std::int64_t lo, std::int64_t hi) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_number_integer()) {
    throw Error(fmt::format("{}: \"{}\" must be a whole number from {} to {}", source, key, lo, hi));
  }
  const auto value = found->get<std::int64_t>();
  if (value < lo || value > hi) {
    throw Error(fmt::format("{}: \"{}\" is {}: it must be from {} to {}", source, key, value, lo, hi));
  }
  return value;
}

void refuse_unknown_keys(const json& object, const std::set<std::string>& known, const std::string& source,
                         const char* where) {
  for (const auto& [key, value] : object.items()) {
    if (!known.contains(key)) {
      throw Error(
          one_line(fmt::format("{}: unknown key \"{}\"{} (known: {})", source, key, where, fmt::join(known, ", "))));
    }
  }
}

}  // namespace

std::string TunedConfig::to_json() const {
  const json object{{"onnxpool_config", kVersion},
                    {"workers", workers},
                    {"threads", threads},
                    {"batch", batch},
                    {"policy", std::string(policy_name(policy))},
                    {"tuned",
                     {{"model", model},
                      {"cpus", cpus},
                      {"cpu_model", cpu_model},
                      {"items_per_s", items_per_s},
                      {"p50_ms", p50_ms},
                      {"by", by}}}};
  return object.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

TunedConfig TunedConfig::parse(std::string_view text, const std::string& source) {
  json object;
  try {
    object = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(one_line(fmt::format("{}: not a pool configuration (JSON): {}", source, e.what())));
  }
  if (!object.is_object()) throw Error(fmt::format("{}: not a pool configuration (a JSON object)", source));
  refuse_unknown_keys(object, {"onnxpool_config", "workers", "threads", "batch", "policy", "tuned"}, source, "");
  const auto version = count(object, "onnxpool_config", source, 1, std::numeric_limits<int>::max());
  if (version != kVersion) {
    throw Error(fmt::format("{}: a pool configuration of version {}; this onnxpool reads version {}", source, version,
                            kVersion));
  }
  TunedConfig config;
  config.workers = static_cast<int>(count(object, "workers", source, 0, kMaxWorkers));
  config.threads = static_cast<int>(count(object, "threads", source, 0, 1 << 20));
  config.batch = static_cast<std::size_t>(count(object, "batch", source, 1, 1 << 20));
  const auto policy = take<std::string>(object, "policy", source, "\"static\" or \"dynamic\"");
  try {
    config.policy = parse_policy(policy);
  } catch (const Error& e) {
    throw Error(one_line(fmt::format("{}: \"policy\": {}", source, e.what())));
  }
  if (const auto tuned = object.find("tuned"); tuned != object.end()) {
    if (!tuned->is_object()) throw Error(fmt::format("{}: \"tuned\" must be an object", source));
    refuse_unknown_keys(*tuned, {"model", "cpus", "cpu_model", "items_per_s", "p50_ms", "by"}, source, " in \"tuned\"");
    const std::string where = source + ": \"tuned\"";
    if (tuned->contains("model")) config.model = take<std::string>(*tuned, "model", where, "a string");
    if (tuned->contains("cpus")) config.cpus = static_cast<int>(count(*tuned, "cpus", where, 0, 1 << 20));
    if (tuned->contains("cpu_model")) config.cpu_model = take<std::string>(*tuned, "cpu_model", where, "a string");
    if (tuned->contains("items_per_s")) config.items_per_s = take<double>(*tuned, "items_per_s", where, "a number");
    if (tuned->contains("p50_ms")) config.p50_ms = take<double>(*tuned, "p50_ms", where, "a number");
    if (tuned->contains("by")) config.by = take<std::string>(*tuned, "by", where, "a string");
  }
  return config;
}

void save_tuned_config(const std::filesystem::path& path, const TunedConfig& config) {
  const std::string text = config.to_json();
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

TunedConfig load_tuned_config(const std::filesystem::path& path) {
  const auto bytes = read_regular_file(path, std::uint64_t{1} << 20);
  return TunedConfig::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

}  // namespace onnxpool
