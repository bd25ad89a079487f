#include "run_shard.hpp"

#include <utility>

#include <fmt/format.h>

#include "onnxpool/error.hpp"

namespace onnxpool::cli {

std::string RunShard::describe() const {
  if (range.size() == 0) {
    return fmt::format("shard {}: no items ({} items in {} shards)", spec.to_string(), whole_items, spec.count);
  }
  return fmt::format("shard {}: items {}..{} of {}", spec.to_string(), range.begin, range.end - 1, whole_items);
}

CLI::Validator shard_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          static_cast<void>(ShardSpec::parse(text));
        } catch (const Error& e) {
          return e.what();
        }
        return {};
      },
      "");  // no description: the flag's type name already says K/N
}

std::optional<RunShard> take_shard(const std::string& text, std::unique_ptr<Source>& source) {
  if (text.empty()) return std::nullopt;
  const ShardSpec spec = ShardSpec::parse(text);
  RunShard shard{.spec = spec, .range = spec.range_of(source->size()), .whole_items = source->size()};
  source = std::make_unique<ShardSource>(std::move(source), shard.range);
  return shard;
}

}  // namespace onnxpool::cli
