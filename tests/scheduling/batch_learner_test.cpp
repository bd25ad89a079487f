// The BatchLearner (which batch size a worker takes, learnt from its runs) tested from tables, without
// threads or clocks: each row is a worker's runs so far (items, seconds), then the queue it looks at,
// with the size expected. The same choices under real threads are in scheduler_test.cpp
// (SchedulerBatchLearning).
#include "onnxpool/scheduling/batch_learner.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace onnxpool::detail {
namespace {

using Runs = std::vector<std::pair<std::size_t, double>>;  // (items, seconds) in order

// `count` runs of `items` items at `per_item` seconds each, the first a warm-up four times as slow.
Runs runs_of(std::size_t items, double per_item, std::size_t count = 2) {
  Runs runs;
  for (std::size_t i = 0; i < count; ++i) {
    runs.emplace_back(items, (i == 0 ? 4.0 : 1.0) * per_item * static_cast<double>(items));
  }
  return runs;
}

Runs operator+(Runs a, const Runs& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct SizeCase {
  std::string name;
  Runs runs;
  std::size_t queued = 64;
  std::size_t sharing = 1;
  bool whole = false;
  std::size_t size = 0;  // expected
  std::size_t cap = 8;
};

std::vector<SizeCase> size_cases() {
  // A model that stacks well: per item 1.0 s alone, 0.6 stacked by 2, 0.4 by 4, 0.35 by 8.
  const Runs one = runs_of(1, 1.0);
  const Runs up_to_2 = one + runs_of(2, 0.6);
  const Runs up_to_4 = up_to_2 + runs_of(4, 0.4);
  const Runs up_to_8 = up_to_4 + runs_of(8, 0.35);
  return {
      {.name = "NothingMeasuredTakesOne", .runs = {}, .size = 1},
      {.name = "AWarmUpAloneMeasuresNothing", .runs = {{1, 9.0}}, .size = 1},
      {.name = "AfterOneTriesTwo", .runs = one, .size = 2},
      {.name = "StacksUpWhileItPays", .runs = up_to_2, .size = 4},
      {.name = "UpToTheCap", .runs = up_to_8, .size = 8},
      {.name = "StopsWhereItStopsPaying", .runs = up_to_2 + runs_of(4, 0.59), .size = 2},
      {.name = "ATieIsNoGain", .runs = one + runs_of(2, 0.98), .size = 1},
      {.name = "ThreePercentIsAGain", .runs = one + runs_of(2, 0.96), .size = 4},
      {.name = "SlowerStackedStaysAtOne", .runs = one + runs_of(2, 1.1), .size = 1},
      {.name = "AWarmUpAtANewSizeIsNotCounted", .runs = one + Runs{{2, 40.0}}, .size = 2},
      {.name = "OtherSizesAreNotLearnt", .runs = one + Runs{{3, 0.3}, {3, 0.3}}, .size = 2},
      // The queue's even share bounds it, as a power of two.
      {.name = "AnEvenShareOfTheQueue", .runs = up_to_8, .queued = 12, .sharing = 2, .size = 4},
      {.name = "AShareOfThreeTakesTwo", .runs = up_to_8, .queued = 6, .sharing = 2, .size = 2},
      {.name = "TwoItemsTwoWorkersOneEach", .runs = up_to_8, .queued = 2, .sharing = 2, .size = 1},
      {.name = "FewerItemsThanWorkersStillOne", .runs = up_to_8, .queued = 1, .sharing = 3, .size = 1},
      {.name = "AloneItTakesTheQueue", .runs = up_to_8, .queued = 5, .sharing = 1, .size = 4},
      // A caller keeping a small job runs it whole once stacking has paid, like one stacked run.
      {.name = "AWholeJobInOneRun", .runs = up_to_2, .queued = 6, .whole = true, .size = 6},
      {.name = "AWholeJobUpToTheCap", .runs = up_to_2, .queued = 20, .whole = true, .size = 8},
      {.name = "AWholeJobOneByOneWhereStackingDoesNotPay",
       .runs = one + runs_of(2, 1.1),
       .queued = 6,
       .whole = true,
       .size = 1},
      {.name = "AWholeJobStillLearnsFirst", .runs = one, .queued = 6, .whole = true, .size = 2},
      // A cap that is no power of two: sizes up to the largest power below it, a whole job up to it.
      {.name = "CapSixTriesUpToFour", .runs = up_to_4, .size = 4, .cap = 6},
      {.name = "CapSixWholeJob", .runs = up_to_4, .queued = 9, .whole = true, .size = 6, .cap = 6},
  };
}

class Size : public testing::TestWithParam<SizeCase> {};
INSTANTIATE_TEST_SUITE_P(Table, Size, testing::ValuesIn(size_cases()),
                         [](const testing::TestParamInfo<SizeCase>& row) { return row.param.name; });

TEST_P(Size, TakesTheSizeLearntSoFar) {
  const SizeCase& row = GetParam();
  BatchLearner learner({row.cap, row.cap}, {true, true});
  for (const auto& [items, seconds] : row.runs) learner.learn(0, items, seconds);
  EXPECT_EQ(learner.size(0, row.queued, row.sharing, row.whole), row.size);
  EXPECT_EQ(learner.size(1, 64, 1), 1U) << "another worker learnt something";
}

TEST(BatchLearner, AWorkerThatDoesNotLearnTakesItsBatch) {
  BatchLearner learner({4, 1, 8}, {false, true, true});
  EXPECT_FALSE(learner.learning(0));
  EXPECT_FALSE(learner.learning(1)) << "a cap of 1 leaves nothing to learn";
  EXPECT_TRUE(learner.learning(2));
  learner.learn(0, 4, 1.0);
  EXPECT_EQ(learner.size(0, 64, 1), 4U);
  EXPECT_EQ(learner.size(0, 2, 2), 4U) << "as a fixed batch: the planners bound it by the queue";
  EXPECT_EQ(learner.size(1, 64, 1), 1U);
  EXPECT_EQ(learner.best(0), 4U);
}

// A size that lost (to noise, or to a load that has changed) is tried again after kRetry batches at
// the best, and its old average is replaced by the new run rather than blended with it.
TEST(BatchLearner, ALosingSizeIsTriedAgainAndCanWin) {
  BatchLearner learner({8}, {true});
  for (const auto& [items, seconds] : runs_of(1, 1.0) + runs_of(2, 1.5)) learner.learn(0, items, seconds);
  EXPECT_EQ(learner.best(0), 1U);
  for (std::size_t i = 0; i + 1 < BatchLearner::kRetry; ++i) {
    EXPECT_EQ(learner.size(0, 64, 1), 1U) << "batch " << i;
    learner.learn(0, 1, 1.0);
  }
  learner.learn(0, 1, 1.0);
  EXPECT_EQ(learner.size(0, 64, 1), 2U) << "the neighbour above, after kRetry batches";
  learner.learn(0, 2, 1.0);  // 0.5 s an item now: the stale 1.5 is replaced, not averaged
  EXPECT_EQ(learner.best(0), 2U);
  EXPECT_EQ(learner.size(0, 64, 1), 4U) << "and the climb goes on";
}

TEST(BatchLearner, ABestSizeThatTurnsSlowGivesWayToASmallerOne) {
  BatchLearner learner({8}, {true});
  for (const auto& [items, seconds] : runs_of(1, 1.0) + runs_of(2, 0.6) + runs_of(4, 1.05)) {
    learner.learn(0, items, seconds);
  }
  EXPECT_EQ(learner.best(0), 2U);
  for (int i = 0; i < 10; ++i) learner.learn(0, 2, 2 * 1.2);  // the machine got busy: 1.2 s an item stacked
  EXPECT_EQ(learner.best(0), 1U) << "its average is past the 1.0 of one at a time";
}

}  // namespace
}  // namespace onnxpool::detail
