#include "onnxpool/scheduling/chunk_coordinator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;

// Every chunk a rank gets until none is left, in order.
std::vector<Chunk> drain(ChunkCoordinator& coordinator, std::size_t rank) {
  std::vector<Chunk> chunks;
  for (Chunk c = coordinator.next(rank); !c.empty(); c = coordinator.next(rank)) chunks.push_back(c);
  return chunks;
}

TEST(ChunkCoordinator, ChunksCoverEveryItemOnceAndShrinkTowardsTheEnd) {
  ChunkCoordinator coordinator(10'000, 2, 256);
  const auto chunks = drain(coordinator, 0);
  std::size_t next = 0;
  for (const Chunk& c : chunks) {
    EXPECT_EQ(c.begin, next) << "in order, no gap, no overlap";
    EXPECT_LE(c.size(), 256U);
    next = c.end;
  }
  EXPECT_EQ(next, 10'000U);
  EXPECT_EQ(chunks.front().size(), 256U) << "full chunks while plenty remain";
  EXPECT_LT(chunks.back().size(), 8U) << "the last ones small: no rank holds a long tail";
  for (std::size_t i = 1; i < chunks.size(); ++i) EXPECT_LE(chunks[i].size(), chunks[i - 1].size());
  EXPECT_FALSE(coordinator.finished()) << "handed out, not completed";
  for (const Chunk& c : chunks) coordinator.complete(0, c);
  EXPECT_TRUE(coordinator.finished());
  EXPECT_EQ(coordinator.stats()[0].items, 10'000U);
  EXPECT_EQ(coordinator.stats()[1].chunks, 0U);
}

TEST(ChunkCoordinator, AResumedRunHandsOutOnlyWhatIsLeft) {
  const std::unique_ptr<bool[]> done(new bool[1000]());  // items 0-99 and 500-599 done before
  for (std::size_t i = 0; i < 1000; ++i) done[i] = i < 100 || (i >= 500 && i < 600);
  ChunkCoordinator coordinator(1000, 3, 64, 1, std::span<const bool>(done.get(), 1000));
  EXPECT_EQ(coordinator.remaining(), 800U);
  std::vector<int> seen(1000, 0);
  for (const Chunk& c : drain(coordinator, 1)) {
    for (std::size_t i = c.begin; i < c.end; ++i) ++seen[i];
    coordinator.complete(1, c);
  }
  for (std::size_t i = 0; i < 1000; ++i) EXPECT_EQ(seen[i], done[i] ? 0 : 1) << i;
  EXPECT_TRUE(coordinator.finished());
}

TEST(ChunkCoordinator, AFailedRanksChunksGoToTheOthers) {
  ChunkCoordinator coordinator(100, 2, 10);
  const Chunk first = coordinator.next(1);
  const Chunk second = coordinator.next(1);
  coordinator.complete(1, first);
  EXPECT_EQ(coordinator.fail(1), std::vector<Chunk>{second});
  EXPECT_TRUE(coordinator.next(1).empty()) << "a failed rank gets nothing";
  EXPECT_EQ(coordinator.next(0), second) << "its unfinished chunk is handed out first";
  coordinator.complete(0, second);
  for (const Chunk& c : drain(coordinator, 0)) coordinator.complete(0, c);
  EXPECT_TRUE(coordinator.finished());
  const auto stats = coordinator.stats();
  EXPECT_EQ(stats[0].items + stats[1].items, 100U);
  EXPECT_TRUE(stats[1].failed);
}

TEST(ChunkCoordinator, MisuseIsAnErrorNamingIt) {
  EXPECT_THROW(ChunkCoordinator(10, 0, 4), Error);
  EXPECT_THROW(ChunkCoordinator(10, 1, 0), Error);
  const bool three[3] = {false, false, false};
  EXPECT_THROW(ChunkCoordinator(10, 1, 4, 1, three), Error);
  ChunkCoordinator coordinator(10, 2, 4);
  EXPECT_THROW(coordinator.next(2), Error);
  const Chunk granted = coordinator.next(0);
  try {
    coordinator.complete(1, granted);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("rank 1 completed items 0-"));
  }
  EXPECT_NO_THROW(coordinator.complete(0, granted));
  EXPECT_THROW(coordinator.complete(0, granted), Error) << "twice";
}

// Threads stand in for ranks, each with its own speed (a pause per item): every item is processed
// exactly once, the run finishes, and a fast rank takes more than a slow one. One rank dies holding
// a chunk: the survivors do what it had not completed.
TEST(ChunkCoordinator, RanksOfDifferentSpeedsShareTheWorkAndSurviveAFailure) {
  constexpr std::size_t kItems = 2000;
  constexpr std::size_t kRanks = 4;
  ChunkCoordinator coordinator(kItems, kRanks, 16);
  std::vector<std::atomic<int>> processed(kItems);
  // Rank 1 pauses 2 ms per item, rank 0 20 us: far apart whatever the timer's slack (about 50 us).
  const auto pause = [](std::size_t rank) {
    return std::chrono::microseconds(rank == 0 ? 20 : rank == 1 ? 2000 : 200);
  };
  std::vector<std::thread> ranks;
  for (std::size_t rank = 0; rank < kRanks; ++rank) {
    ranks.emplace_back([&, rank] {
      for (Chunk c = coordinator.next(rank); !c.empty(); c = coordinator.next(rank)) {
        if (rank == 3) {
          coordinator.fail(rank);  // dies holding its first chunk, not a row of it written
          return;
        }
        for (std::size_t i = c.begin; i < c.end; ++i) {
          std::this_thread::sleep_for(pause(rank));
          processed[i].fetch_add(1);
        }
        coordinator.complete(rank, c);
      }
    });
  }
  for (auto& rank : ranks) rank.join();
  EXPECT_TRUE(coordinator.finished());
  for (std::size_t i = 0; i < kItems; ++i) EXPECT_EQ(processed[i].load(), 1) << "item " << i;
  const auto stats = coordinator.stats();
  EXPECT_TRUE(stats[3].failed);
  EXPECT_GT(stats[0].items, stats[1].items) << "the fast rank took more than the slow one";
  std::size_t total = 0;
  for (const auto& s : stats) total += s.items;
  EXPECT_EQ(total, kItems);
}

}  // namespace
}  // namespace onnxpool
