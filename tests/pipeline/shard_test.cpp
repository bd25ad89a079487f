// Shards of a run: K/N parsed (and hostile text refused), the N ranges covering the items once in
// order, a shard's source and its indices shown as the whole run's, and the manifest of a completed
// shard (written only then, read back, hostile ones refused).
#include "onnxpool/pipeline/shard.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "support/cli_util.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;

TEST(ShardSpec, ParsesKOfN) {
  EXPECT_EQ(ShardSpec::parse("0/1"), (ShardSpec{.index = 0, .count = 1}));
  EXPECT_EQ(ShardSpec::parse("2/3"), (ShardSpec{.index = 2, .count = 3}));
  EXPECT_EQ(ShardSpec::parse("16777215/16777216"), (ShardSpec{.index = 16777215, .count = 16777216}));
  EXPECT_EQ(ShardSpec::parse("7/12").to_string(), "7/12");
}

TEST(ShardSpec, RefusesWhatIsNotKOfN) {
  for (const char* text : {"", "3", "/", "3/", "/3", "-1/4", "+1/4", " 1/4", "1/4 ", "1/2/3", "a/b", "1.0/2", "0x1/2",
                           "99999999999999999999999/2", "1/99999999999999999999999", "1/16777217"}) {
    const std::string message = test::error_of([&] { static_cast<void>(ShardSpec::parse(text)); });
    EXPECT_THAT(message, HasSubstr("expected K/N")) << text;
    EXPECT_EQ(message.find('\n'), std::string::npos) << text;
  }
  EXPECT_THAT(test::error_of([] { static_cast<void>(ShardSpec::parse("3/0")); }), HasSubstr("N must be at least 1"));
  EXPECT_EQ(test::error_of([] { static_cast<void>(ShardSpec::parse("3/3")); }),
            "'3/3': K counts from 0, so it must be below N (3 of 3: 0 ... 2)");
}

// For many item and shard counts: each shard's range starts where the previous one ended, the last ends at
// the item count, and sizes differ by at most one item.
TEST(ShardSpec, RangesCoverEveryItemOnceInOrder) {
  for (std::size_t items : {0UL, 1UL, 2UL, 3UL, 5UL, 7UL, 10UL, 64UL, 100UL, 1001UL}) {
    for (std::size_t count : {1UL, 2UL, 3UL, 4UL, 7UL, 10UL, 11UL, 64UL, 1000UL}) {
      std::size_t next = 0;
      std::size_t smallest = items;
      std::size_t largest = 0;
      for (std::size_t k = 0; k < count; ++k) {
        const ItemRange range = ShardSpec{.index = k, .count = count}.range_of(items);
        ASSERT_EQ(range.begin, next) << items << " items, shard " << k << "/" << count;
        ASSERT_LE(range.begin, range.end);
        next = range.end;
        smallest = std::min(smallest, range.size());
        largest = std::max(largest, range.size());
      }
      EXPECT_EQ(next, items) << items << " items, " << count << " shards";
      EXPECT_LE(largest - smallest, 1U) << items << " items, " << count << " shards";
    }
  }
  // The formula's values: floor(K*n/N).
  EXPECT_EQ((ShardSpec{.index = 1, .count = 3}.range_of(10)), (ItemRange{.begin = 3, .end = 6}));
  EXPECT_EQ((ShardSpec{.index = 2, .count = 3}.range_of(10)), (ItemRange{.begin = 6, .end = 10}));
  EXPECT_EQ((ShardSpec{.index = 3, .count = 4}.range_of(3)), (ItemRange{.begin = 2, .end = 3}));
  EXPECT_EQ((ShardSpec{.index = 0, .count = 4}.range_of(3)), (ItemRange{.begin = 0, .end = 0}));
  // Exact where K*n would overflow 64 bits.
  const std::size_t huge = std::size_t{1} << 62;
  EXPECT_EQ((ShardSpec{.index = 3, .count = 4}.range_of(huge)), (ItemRange{.begin = 3 * (huge / 4), .end = huge}));
  const ItemRange last = ShardSpec{.index = ShardSpec::kMaxShards - 1, .count = ShardSpec::kMaxShards}.range_of(~0UL);
  EXPECT_EQ(last.end, ~0UL);
}

// A source whose item i holds i, named "n<i>" (or nameless).
class Counting final : public Source {
 public:
  Counting(std::size_t n, bool named) : n_(n), named_(named) {}
  [[nodiscard]] std::size_t size() const override { return n_; }
  [[nodiscard]] std::string name(std::size_t i) const override { return named_ ? "n" + std::to_string(i) : ""; }
  TensorSet read(std::size_t i) override {
    Tensor t(ElementType::Int64, {1});
    t.data<std::int64_t>()[0] = static_cast<std::int64_t>(i);
    return {{"x", t}};
  }

 private:
  std::size_t n_;
  bool named_;
};

TEST(ShardSource, GivesTheWholeRunsItemsOfItsRange) {
  ShardSource shard(std::make_unique<Counting>(10, true), {.begin = 3, .end = 6});
  ASSERT_EQ(shard.size(), 3U);
  EXPECT_EQ(shard.read(0).front().tensor.data<std::int64_t>()[0], 3);
  EXPECT_EQ(shard.read(2).front().tensor.data<std::int64_t>()[0], 5);
  EXPECT_EQ(shard.name(1), "n4");
  EXPECT_EQ(shard.whole().size(), 10U);
  EXPECT_THAT(test::error_of([] { ShardSource(std::make_unique<Counting>(4, false), {.begin = 3, .end = 5}); }),
              HasSubstr("items 3..5 are not within the 4 items"));
}

// Records what reaches it.
class Recorder final : public Sink {
 public:
  void write(std::size_t index, const std::string& name, const TensorSet&) override {
    seen.push_back(tag("w", index, name));
  }
  void fail(const ItemFailure& f) override { seen.push_back(tag("f", f.index, f.name)); }
  void kept(std::size_t index, const std::string& name) override { seen.push_back(tag("k", index, name)); }
  void kept_failure(const ItemFailure& f) override { seen.push_back(tag("kf", f.index, f.name)); }
  void finish() override { seen.emplace_back("finish"); }
  std::vector<std::string> seen;

 private:
  static std::string tag(const char* what, std::size_t index, const std::string& name) {
    return std::string(what) + std::to_string(index) + name;
  }
};

TEST(IndexOffsetSink, ShowsTheWholeRunsIndices) {
  Recorder inner;
  IndexOffsetSink shifted(inner, 100);
  shifted.write(0, "a", {});
  shifted.fail({.index = 1, .name = "b", .worker = "cpu#0", .cause = "x"});
  shifted.kept(2, "c");
  shifted.kept_failure({.index = 3, .name = "", .worker = "", .cause = "y"});
  shifted.finish();
  EXPECT_EQ(inner.seen, (std::vector<std::string>{"w100a", "f101b", "k102c", "kf103", "finish"}));
}

ShardManifest manifest_of(ShardSpec spec, std::size_t items) {
  return {.shard = spec,
          .items = items,
          .range = spec.range_of(items),
          .identity = R"({"model":"m.onnx","seed":0})",
          .layout = "stacked",
          .outputs = {"y", "z"},
          .failed = 0,
          .extras = "{}"};
}

TEST(ShardManifest, RoundTripsThroughItsFile) {
  test::TempDir dir;
  ShardManifest written = manifest_of({.index = 1, .count = 3}, 10);
  written.failed = 2;
  written.extras = R"({"top_k":{"k":5,"labels":""}})";
  written.write(dir.path());
  EXPECT_FALSE(std::filesystem::exists(dir / "shard.json.partial"));
  const ShardManifest read = ShardManifest::read(dir.path());
  EXPECT_EQ(read.shard, written.shard);
  EXPECT_EQ(read.items, 10U);
  EXPECT_EQ(read.range, (ItemRange{.begin = 3, .end = 6}));
  EXPECT_EQ(read.failed, 2U);
  EXPECT_EQ(read.outputs, written.outputs);
  EXPECT_EQ(nlohmann::json::parse(read.identity), nlohmann::json::parse(written.identity));
  EXPECT_EQ(nlohmann::json::parse(read.extras), nlohmann::json::parse(written.extras));
  EXPECT_EQ(read.layout, "stacked");
}

TEST(ShardManifest, RefusesHostileManifests) {
  auto j = nlohmann::json::parse(manifest_of({.index = 1, .count = 3}, 10).to_json());
  const auto refused = [&](const nlohmann::json& changed) {
    return test::error_of([&] { static_cast<void>(ShardManifest::parse(changed.dump(), "s/shard.json")); });
  };
  EXPECT_EQ(test::error_of([] { static_cast<void>(ShardManifest::parse("{\"shard\":", "s/shard.json")); }),
            "s/shard.json: not a shard manifest (bad JSON)");
  auto bad = j;
  bad["begin"] = 4;
  EXPECT_EQ(refused(bad), "s/shard.json: not a shard manifest: items 4..6 are not shard 1/3's of 10 items");
  bad = j;
  bad["shard"] = 3;
  EXPECT_EQ(refused(bad), "s/shard.json: not a shard manifest: no shard 3 of 3");
  bad = j;
  bad["failed"] = 4;
  EXPECT_EQ(refused(bad), "s/shard.json: not a shard manifest: 4 of 3 items failed");
  bad = j;
  bad["items"] = -10;
  EXPECT_EQ(refused(bad), "s/shard.json: not a shard manifest: no count 'items'");
  bad = j;
  bad.erase("identity");
  EXPECT_EQ(refused(bad), "s/shard.json: not a shard manifest: no identity");
  bad = j;
  bad["layout"] = "interleaved";
  EXPECT_EQ(refused(bad), "s/shard.json: not a shard manifest: unknown layout 'interleaved'");
  bad = j;
  bad["outputs"] = {1, 2};
  EXPECT_EQ(refused(bad), "s/shard.json: not a shard manifest (bad JSON)");
}

// The manifest is written only by a shard whose every item was accounted for (results, failures, or
// kept from an earlier run), with its failures counted.
TEST(ShardManifestSink, WritesTheManifestOnlyWhenTheShardIsComplete) {
  test::TempDir dir;
  const ShardManifest manifest = manifest_of({.index = 2, .count = 3}, 10);  // items 6..9: 4 items
  {
    ShardManifestSink stopped(dir.path(), manifest);
    stopped.write(0, "", {});
    stopped.fail({.index = 1, .name = "", .worker = "", .cause = "x"});
    stopped.finish();
    EXPECT_FALSE(stopped.written());
    EXPECT_FALSE(std::filesystem::exists(dir / "shard.json"));
  }
  ShardManifestSink complete(dir.path(), manifest);
  complete.kept(0, "");
  complete.kept_failure({.index = 1, .name = "", .worker = "", .cause = "x"});
  complete.write(2, "", {});
  complete.fail({.index = 3, .name = "", .worker = "", .cause = "y"});
  complete.finish();
  EXPECT_TRUE(complete.written());
  EXPECT_EQ(ShardManifest::read(dir.path()).failed, 2U);
  // A shard of no items (fewer items than shards) is complete at once.
  test::TempDir empty;
  ShardManifestSink none(empty.path(), manifest_of({.index = 0, .count = 4}, 3));
  none.finish();
  EXPECT_TRUE(none.written());
}

}  // namespace
}  // namespace onnxpool
