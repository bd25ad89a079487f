#pragma once
// `run --shard K/N`: the run takes only shard K's items of the N (pipeline/shard.hpp), shows the whole
// run's item indices, and its output folder becomes one `onnxpool merge` combines with the others.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "onnxpool/pipeline/shard.hpp"
#include "onnxpool/pipeline/source.hpp"

namespace onnxpool::cli {

struct RunShard {
  ShardSpec spec;
  ItemRange range;
  std::size_t whole_items = 0;
  // "shard 1/3: items 4..6 of 10", or "shard 3/4: no items (3 items in 4 shards)".
  [[nodiscard]] std::string describe() const;
};

// --shard's check while parsing: a bad K/N is a usage error, its one line saying what is wrong.
CLI::Validator shard_check();

// With `text` ("K/N") given: `source` becomes the shard's items of it, and the shard is returned;
// nullopt and `source` unchanged when `text` is empty.
std::optional<RunShard> take_shard(const std::string& text, std::unique_ptr<Source>& source);

}  // namespace onnxpool::cli
