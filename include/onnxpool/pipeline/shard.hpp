#pragma once
// One shard of a run, for schedulers that only hand each job a number (Slurm job arrays, Kubernetes
// indexed jobs): shard K of N runs one part of the items into a folder of its own, and merge.hpp
// combines the N folders into the files of the whole run.
//
// Shard K of N takes the contiguous range [floor(K*n/N), floor((K+1)*n/N)) of the n items, not every
// N-th item: merging is then a concatenation of each shard's rows (large sequential copies, no
// interleaving), a shard reads one contiguous part of a memory-mapped --data array or of an image list,
// and shard sizes differ by at most one item.
//
// Indices: the items a shard runs are numbered from 0 where the shard keeps them (its journal, its rows
// in the stacked files), but wherever a user sees an index (failures.jsonl, per-item folder names,
// top_k.csv, messages) it is the item's index in the whole run, so a shard's failures read as the
// whole run's would. ShardSource gives the shard's items; IndexOffsetSink turns their indices back
// into the whole run's for the sinks that show them.
//
// A shard's folder holds, once its run has completed (every item accounted for), a manifest,
// shard.json (ShardManifest), written under a temporary name and renamed: its presence says the shard
// is complete, and it carries what merge checks (which shard of which run, how many items failed).
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/pipeline/sink.hpp"
#include "onnxpool/pipeline/source.hpp"

namespace onnxpool {

// Items [begin, end) of a run.
struct ItemRange {
  std::size_t begin = 0;
  std::size_t end = 0;  // exclusive
  [[nodiscard]] std::size_t size() const { return end - begin; }
  friend bool operator==(const ItemRange&, const ItemRange&) = default;
};

struct ShardSpec {
  // More shards than this are refused: no scheduler hands out more, and the bound keeps range_of's
  // arithmetic exact in 64 bits.
  static constexpr std::size_t kMaxShards = std::size_t{1} << 24;

  std::size_t index = 0;  // K, from 0
  std::size_t count = 1;  // N
  // "K/N", 0 <= K < N <= kMaxShards, both plain decimal numbers. Throws Error saying what is wrong
  // (the caller names the flag).
  static ShardSpec parse(std::string_view text);
  // This shard's items of a run of `items`: [floor(K*items/N), floor((K+1)*items/N)). The N shards'
  // ranges cover 0..items once, in order; a shard may be empty when items < N.
  [[nodiscard]] ItemRange range_of(std::size_t items) const;
  [[nodiscard]] std::string to_string() const;  // "K/N"
  friend bool operator==(const ShardSpec&, const ShardSpec&) = default;
};

// The items [range.begin, range.end) of `whole` as a source of their own: item i is whole's item
// range.begin + i, with whole's name for it.
class ShardSource final : public Source {
 public:
  // Throws Error when the range is not within whole's items.
  ShardSource(std::unique_ptr<Source> whole, ItemRange range);
  [[nodiscard]] std::size_t size() const override { return range_.size(); }
  [[nodiscard]] std::string name(std::size_t index) const override;
  TensorSet read(std::size_t index) override;
  [[nodiscard]] const Source& whole() const { return *whole_; }
  [[nodiscard]] ItemRange range() const { return range_; }

 private:
  std::unique_ptr<Source> whole_;
  ItemRange range_;
};

// Passes every result and failure on to `inner` with `offset` added to its index: a shard's item i
// reaches it as the whole run's item offset + i.
class IndexOffsetSink final : public Sink {
 public:
  IndexOffsetSink(Sink& inner, std::size_t offset) : inner_(inner), offset_(offset) {}
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override;
  void fail(const ItemFailure& failure) override;
  void kept(std::size_t index, const std::string& name) override;
  void kept_failure(const ItemFailure& failure) override;
  void sync() override { inner_.sync(); }
  void finish() override { inner_.finish(); }

 private:
  [[nodiscard]] ItemFailure shifted(const ItemFailure& failure) const;
  Sink& inner_;
  std::size_t offset_;
};

// What a completed shard's folder says of itself (shard.json).
struct ShardManifest {
  static constexpr const char* kFileName = "shard.json";

  ShardSpec shard;
  std::size_t items = 0;  // the whole run's
  ItemRange range;        // the shard's items, as shard.range_of(items)
  // The whole run's identity (the caller's JSON object, as the journal's but without the shard): two
  // shards merge only when theirs are equal.
  std::string identity;
  std::string layout;                // "stacked" or "per-item"
  std::vector<std::string> outputs;  // the model's outputs, in its order
  std::size_t failed = 0;            // of the shard's items
  // The options of the files made beside the outputs that merge must find in every shard alike
  // (--top-k's K and labels), as a JSON object; "{}" when none.
  std::string extras = "{}";

  [[nodiscard]] std::string to_json() const;
  // Throws Error naming `source` for text that is not such a manifest, or whose numbers disagree
  // (a range that is not its shard's, more failures than items).
  static ShardManifest parse(std::string_view text, const std::string& source);
  // `dir`/shard.json; Error when it is missing or bad.
  static ShardManifest read(const std::filesystem::path& dir);
  // Writes `dir`/shard.json atomically.
  void write(const std::filesystem::path& dir) const;
};

// The sink that writes a shard's manifest when its run completes: it counts the items accounted for
// and the failures, and at finish(), if every item of the shard is accounted for, writes `manifest`
// (its `failed` filled in) into `dir`. Placed last among the sinks a JournaledSink feeds: the outputs
// are final when it is written, and the journal is removed only after it, so a run that dies in between
// leaves a journal beside the manifest (unfinished for merge; --resume completes it).
class ShardManifestSink final : public Sink {
 public:
  ShardManifestSink(std::filesystem::path dir, ShardManifest manifest)
      : dir_(std::move(dir)), manifest_(std::move(manifest)) {}
  void write(std::size_t /*index*/, const std::string& /*name*/, const TensorSet& /*outputs*/) override {
    ++accounted_;
  }
  void fail(const ItemFailure& /*failure*/) override;
  void kept(std::size_t /*index*/, const std::string& /*name*/) override { ++accounted_; }
  void finish() override;
  [[nodiscard]] bool written() const { return written_; }

 private:
  std::filesystem::path dir_;
  ShardManifest manifest_;
  std::size_t accounted_ = 0;
  bool written_ = false;
};

}  // namespace onnxpool
