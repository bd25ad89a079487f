// Rank 0's hand-out of a run shared by several processes, without MPI and without ONNX Runtime:
// threads stand in for ranks (of different speeds), the journal is a real one, and what it says at the
// end is what a single run of the same items would have recorded. Run under ThreadSanitizer.
#include "onnxpool/pipeline/run_hand_out.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;

// A folder of its own for the journal, removed afterwards.
class Folder {
 public:
  Folder() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("onnxpool-hand-out-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  Folder(const Folder&) = delete;
  Folder& operator=(const Folder&) = delete;
  ~Folder() { std::filesystem::remove_all(path_); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr const char* kIdentity = R"({"model":"fake"})";

bool fails(std::size_t index) {
  return index % 97 == 13;
}

// A failure of item `index`, as a rank reports it.
ItemFailure failure_of(std::size_t index, std::string cause = "fake") {
  return {.index = index, .name = {}, .worker = "cpu#0", .cause = std::move(cause)};
}

// One rank: takes chunks until there are none, "runs" each item (`pause` per item: its speed), reports
// each chunk with its failures. Items it ran are counted in `ran` (each must be run once).
void work(WorkFeed& feed, std::chrono::microseconds pause, std::vector<std::atomic<int>>& ran,
          std::size_t* items = nullptr, std::size_t stop_after = 0) {
  std::size_t mine = 0;
  for (Chunk chunk = feed.next(); !chunk.empty(); chunk = feed.next()) {
    std::vector<ItemFailure> failures;
    for (std::size_t i = chunk.begin; i < chunk.end; ++i) {
      if (stop_after > 0 && mine == stop_after) {
        feed.leave();  // a signal: the chunk in progress is not reported
        if (items != nullptr) *items = mine;
        return;
      }
      std::this_thread::sleep_for(pause);
      ++ran[i];
      ++mine;
      if (fails(i)) failures.push_back(failure_of(i));
    }
    feed.complete(chunk, std::move(failures));
  }
  if (items != nullptr) *items = mine;
}

// One thread per rank, rank r working at pauses[r] per item, until every rank is done. Returns the items
// each ran.
std::vector<std::size_t> run_ranks(RunHandOut& hand_out, const std::vector<std::chrono::microseconds>& pauses,
                                   std::vector<std::atomic<int>>& ran) {
  std::vector<std::size_t> items(pauses.size());
  {
    std::vector<std::jthread> ranks;
    for (std::size_t r = 0; r < pauses.size(); ++r) {
      ranks.emplace_back([&, r] {
        const auto feed = hand_out.feed(r);
        work(*feed, pauses[r], ran, &items[r]);
      });
    }
  }
  return items;
}

TEST(RunHandOut, RanksOfDifferentSpeedsRunEveryItemOnceAndTheJournalSaysSo) {
  constexpr std::size_t kItems = 3000;
  const Folder folder;
  const auto path = folder.path() / ".onnxpool-journal";
  auto journal = RunJournal::start(path, kItems, kIdentity);
  RunHandOut hand_out(kItems, 3, nullptr, &journal, {.chunk = 64, .max_failures = 0, .commit_seconds = 0.0});
  std::vector<std::atomic<int>> ran(kItems);
  const auto items = run_ranks(
      hand_out, {std::chrono::microseconds(200), std::chrono::microseconds(200), std::chrono::microseconds(2000)}, ran);
  hand_out.commit();
  for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(ran[i].load(), 1) << "item " << i;
  EXPECT_TRUE(hand_out.finished());
  EXPECT_EQ(hand_out.completed(), kItems);
  // The slow rank (10x the pause) took far fewer items than each fast one.
  EXPECT_LT(items[2] * 3, items[0]) << items[0] << " " << items[1] << " " << items[2];
  EXPECT_LT(items[2] * 3, items[1]);

  // The journal, read back as a resume would: every item done, the failures those of the items that failed,
  // in index order, each naming its rank's worker.
  const ResumeState state = RunJournal::parse(slurp(path), kItems, kIdentity, path.string());
  EXPECT_EQ(state.done_count(), kItems);
  std::vector<std::size_t> failed;
  for (const auto& f : state.failures) failed.push_back(f.index);
  std::sort(failed.begin(), failed.end());
  std::vector<std::size_t> expected;
  for (std::size_t i = 0; i < kItems; ++i) {
    if (fails(i)) expected.push_back(i);
  }
  EXPECT_EQ(failed, expected);
  const auto all = hand_out.failures();
  ASSERT_EQ(all.size(), expected.size());
  for (std::size_t k = 0; k < all.size(); ++k) {
    EXPECT_EQ(all[k].index, expected[k]);
    EXPECT_THAT(all[k].worker, ::testing::MatchesRegex("rank [012] cpu#0"));
  }
  const auto flags = hand_out.failed_items();
  for (std::size_t i = 0; i < kItems; ++i) EXPECT_EQ(flags[i], fails(i)) << i;
}

TEST(RunHandOut, ARankThatLeavesHasItsChunkRunByTheOthersAndAResumeRunsOnlyWhatIsLeft) {
  constexpr std::size_t kItems = 1000;
  const Folder folder;
  const auto path = folder.path() / ".onnxpool-journal";
  {
    auto journal = RunJournal::start(path, kItems, kIdentity);
    RunHandOut hand_out(kItems, 2, nullptr, &journal, {.chunk = 50, .max_failures = 0, .commit_seconds = 0.0});
    std::vector<std::atomic<int>> ran(kItems);
    // Rank 1 stops in the middle of its first chunk (a signal); rank 0 runs the rest, that chunk included.
    {
      std::jthread quitter([&] {
        const auto feed = hand_out.feed(1);
        work(*feed, std::chrono::microseconds(0), ran, nullptr, 20);
      });
      quitter.join();
      const auto feed = hand_out.feed(0);
      work(*feed, std::chrono::microseconds(0), ran);
    }
    hand_out.commit();
    EXPECT_TRUE(hand_out.finished());
    for (std::size_t i = 0; i < kItems; ++i) EXPECT_GE(ran[i].load(), 1) << "item " << i;
    EXPECT_EQ(RunJournal::parse(slurp(path), kItems, kIdentity, path.string()).done_count(), kItems);
  }
  // An interrupted run: a journal of the first 400 items (done out of order), continued by 3 ranks.
  std::filesystem::remove(path);
  ResumeState earlier;
  {
    auto journal = RunJournal::start(path, kItems, kIdentity);
    for (std::size_t i = 200; i < 400; ++i) journal.done(i);
    for (std::size_t i = 0; i < 200; ++i) {
      if (fails(i)) {
        journal.failed({.index = i, .name = {}, .worker = "cpu#1", .cause = "fake"});
      } else {
        journal.done(i);
      }
    }
    journal.commit();
  }
  auto journal = RunJournal::resume(path, kItems, kIdentity, earlier);
  ASSERT_EQ(earlier.done_count(), 400U);
  RunHandOut hand_out(kItems, 3, &earlier, &journal, {.chunk = 32, .max_failures = 0, .commit_seconds = 0.0});
  EXPECT_EQ(hand_out.completed(), 400U);
  std::vector<std::atomic<int>> ran(kItems);
  static_cast<void>(run_ranks(hand_out, std::vector<std::chrono::microseconds>(3, std::chrono::microseconds(10)), ran));
  hand_out.commit();
  for (std::size_t i = 0; i < kItems; ++i) EXPECT_EQ(ran[i].load(), i < 400 ? 0 : 1) << "item " << i;
  EXPECT_TRUE(hand_out.finished());
  // The earlier run's failures and this one's, together, in index order.
  std::vector<std::size_t> failed;
  for (const auto& f : hand_out.failures()) failed.push_back(f.index);
  std::vector<std::size_t> expected;
  for (std::size_t i = 0; i < kItems; ++i) {
    if (fails(i) && (i < 200 || i >= 400)) expected.push_back(i);
  }
  EXPECT_EQ(failed, expected);
}

TEST(RunHandOut, MaxFailuresStopsTheHandOutForEveryRank) {
  RunHandOut hand_out(1000, 2, nullptr, nullptr, {.chunk = 10, .max_failures = 3, .commit_seconds = 0.0});
  const Chunk first = hand_out.next(0);
  std::vector<ItemFailure> three;
  for (std::size_t i = first.begin; i < first.begin + 3; ++i) three.push_back(failure_of(i));
  hand_out.complete(0, first, three);
  EXPECT_TRUE(hand_out.next(0).empty());
  EXPECT_TRUE(hand_out.next(1).empty());
  EXPECT_FALSE(hand_out.finished());
  EXPECT_EQ(hand_out.failed(), 3U);
}

TEST(RunHandOut, AReportThatDoesNotFitItsChunkIsAnErrorNamingIt) {
  RunHandOut hand_out(100, 2, nullptr, nullptr, {.chunk = 10, .max_failures = 0, .commit_seconds = 0.0});
  const Chunk chunk = hand_out.next(1);
  EXPECT_THROW(
      {
        try {
          hand_out.complete(1, chunk, {failure_of(chunk.end + 5)});
        } catch (const Error& e) {
          EXPECT_THAT(e.what(), HasSubstr("rank 1 reported a failure of item"));
          throw;
        }
      },
      Error);
  EXPECT_THROW(hand_out.complete(0, chunk, {}), Error);  // not rank 0's chunk
  EXPECT_THROW(hand_out.complete(1, chunk, {failure_of(chunk.begin, "a"), failure_of(chunk.begin, "b")}),
               Error);  // the same item twice
  hand_out.complete(1, chunk, {});
  EXPECT_EQ(hand_out.completed(), chunk.size());
}

}  // namespace
}  // namespace onnxpool
