#include "onnxpool/pipeline/shard.hpp"

#include <charconv>
#include <optional>
#include <span>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/one_line.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {
namespace {

// A plain decimal number (no sign, no spaces), at most `max`.
std::optional<std::size_t> plain_number(std::string_view text, std::size_t max) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

// A manifest field that must be an unsigned number.
std::size_t count_field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_unsigned()) throw Error(fmt::format("no count '{}'", key));
  return j[key].get<std::size_t>();
}

}  // namespace

ShardSpec ShardSpec::parse(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Error(one_line(fmt::format("'{}': {}", text.substr(0, 40), why)));
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) throw bad("expected K/N, shard K of N counted from 0 (0/4 ... 3/4)");
  const auto index = plain_number(text.substr(0, slash), kMaxShards);
  const auto count = plain_number(text.substr(slash + 1), kMaxShards);
  if (!index || !count) {
    throw bad(fmt::format("expected K/N, two whole numbers (N at most {}), shard K of N counted from 0", kMaxShards));
  }
  if (*count == 0) throw bad("N must be at least 1");
  if (*index >= *count)
    throw bad(fmt::format("K counts from 0, so it must be below N ({} of {}: 0 ... {})", *index, *count, *count - 1));
  return {.index = *index, .count = *count};
}

ItemRange ShardSpec::range_of(std::size_t items) const {
  // floor(k * items / N) without overflow: items = q*N + r gives k*q + floor(k*r / N), where
  // k*r < N*N <= 2^48.
  const std::size_t q = items / count;
  const std::size_t r = items % count;
  const auto start = [&](std::size_t k) { return k * q + k * r / count; };
  return {.begin = start(index), .end = start(index + 1)};
}

std::string ShardSpec::to_string() const {
  return fmt::format("{}/{}", index, count);
}

ShardSource::ShardSource(std::unique_ptr<Source> whole, ItemRange range) : whole_(std::move(whole)), range_(range) {
  if (range_.begin > range_.end || range_.end > whole_->size()) {
    throw Error(fmt::format("items {}..{} are not within the {} items", range_.begin, range_.end, whole_->size()));
  }
}

std::string ShardSource::name(std::size_t index) const {
  return whole_->name(range_.begin + index);
}

TensorSet ShardSource::read(std::size_t index) {
  return whole_->read(range_.begin + index);
}

ItemFailure IndexOffsetSink::shifted(const ItemFailure& failure) const {
  ItemFailure moved = failure;
  moved.index += offset_;
  return moved;
}

void IndexOffsetSink::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  inner_.write(offset_ + index, name, outputs);
}

void IndexOffsetSink::fail(const ItemFailure& failure) {
  inner_.fail(shifted(failure));
}

void IndexOffsetSink::kept(std::size_t index, const std::string& name) {
  inner_.kept(offset_ + index, name);
}

void IndexOffsetSink::kept_failure(const ItemFailure& failure) {
  inner_.kept_failure(shifted(failure));
}

std::string ShardManifest::to_json() const {
  const nlohmann::json j{{"shard", shard.index},
                         {"of", shard.count},
                         {"items", items},
                         {"begin", range.begin},
                         {"end", range.end},
                         {"failed", failed},
                         {"layout", layout},
                         {"outputs", outputs},
                         {"extras", nlohmann::json::parse(extras)},
                         {"identity", nlohmann::json::parse(identity)}};
  return j.dump(2) + "\n";
}

ShardManifest ShardManifest::parse(std::string_view text, const std::string& source) {
  ShardManifest m;
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw Error("not a JSON object");
    const std::size_t index = count_field(j, "shard");
    const std::size_t count = count_field(j, "of");
    if (count == 0 || count > ShardSpec::kMaxShards || index >= count)
      throw Error(fmt::format("no shard {} of {}", index, count));
    m.shard = {.index = index, .count = count};
    m.items = count_field(j, "items");
    m.range = {.begin = count_field(j, "begin"), .end = count_field(j, "end")};
    if (m.range != m.shard.range_of(m.items)) {
      throw Error(fmt::format("items {}..{} are not shard {}'s of {} items", m.range.begin, m.range.end,
                              m.shard.to_string(), m.items));
    }
    m.failed = count_field(j, "failed");
    if (m.failed > m.range.size()) throw Error(fmt::format("{} of {} items failed", m.failed, m.range.size()));
    if (!j.contains("layout") || !j["layout"].is_string()) throw Error("no layout");
    m.layout = j["layout"].get<std::string>();
    if (m.layout != "stacked" && m.layout != "per-item") throw Error(fmt::format("unknown layout '{}'", m.layout));
    if (!j.contains("outputs") || !j["outputs"].is_array()) throw Error("no outputs");
    for (const auto& name : j["outputs"]) m.outputs.push_back(name.get<std::string>());
    if (!j.contains("identity") || !j["identity"].is_object()) throw Error("no identity");
    m.identity = j["identity"].dump();
    m.extras = j.contains("extras") && j["extras"].is_object() ? j["extras"].dump() : "{}";
  } catch (const nlohmann::json::exception&) {
    throw Error(fmt::format("{}: not a shard manifest (bad JSON)", source));
  } catch (const Error& e) {
    throw Error(one_line(fmt::format("{}: not a shard manifest: {}", source, e.what())));
  }
  return m;
}

ShardManifest ShardManifest::read(const std::filesystem::path& dir) {
  const auto path = dir / kFileName;
  // A manifest is a few hundred bytes; the bound keeps a hostile one from filling memory.
  const auto bytes = read_regular_file(path, std::uint64_t{1} << 24);
  return parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

void ShardManifest::write(const std::filesystem::path& dir) const {
  const std::string text = to_json();
  write_file_atomically(dir / kFileName, std::as_bytes(std::span(text.data(), text.size())));
}

void ShardManifestSink::fail(const ItemFailure& /*failure*/) {
  ++accounted_;
  ++manifest_.failed;
}

void ShardManifestSink::finish() {
  if (accounted_ != manifest_.range.size()) return;  // stopped early: the shard is not complete
  manifest_.write(dir_);
  written_ = true;
}

}  // namespace onnxpool
