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

// `count` runs of `items` items at `per_item` seconds each, the first a warm-up four times as slow: by
// default the warm-up and the two runs that measure a size (kMeasuredRuns).
Runs runs_of(std::size_t items, double per_item, std::size_t count = 3) {
  Runs runs;
  for (std::size_t i = 0; i < count; ++i) {
    runs.emplace_back(items, (i == 0 ? 4.0 : 1.0) * per_item * static_cast<double>(items));
  }
  return runs;
}

// Enough runs at `items` to pay for trying the next size up (kAmortize): the warm-up, the two runs that
// measure the size, then 2 * kAmortize runs at it as the best.
Runs settled(std::size_t items, double per_item) {
  return runs_of(items, per_item, 3 + 2 * BatchLearner::kAmortize);
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
  const Runs one = settled(1, 1.0);
  const Runs up_to_2 = one + settled(2, 0.6);
  const Runs up_to_4 = up_to_2 + settled(4, 0.4);
  const Runs up_to_8 = up_to_4 + runs_of(8, 0.35);
  return {
      {.name = "NothingMeasuredTakesOne", .runs = {}, .size = 1},
      {.name = "AWarmUpAloneMeasuresNothing", .runs = {{1, 9.0}}, .size = 1},
      {.name = "AfterOneTriesTwo", .runs = one, .size = 2},
      // Trying to stack costs a warm-up: the first try only after kAmortize * 2 items one by one.
      {.name = "NotBeforeItIsPaidFor", .runs = runs_of(1, 1.0, 2 * BatchLearner::kAmortize), .size = 1},
      {.name = "TwoOnceItIsPaidFor", .runs = runs_of(1, 1.0, 1 + 2 * BatchLearner::kAmortize), .size = 2},
      {.name = "OnceStackingPaidTheNextSizeAtOnce", .runs = one + runs_of(2, 0.6), .size = 4},
      {.name = "StacksUpWhileItPays", .runs = up_to_2, .size = 4},
      {.name = "UpToTheCap", .runs = up_to_8, .size = 8},
      {.name = "StopsWhereItStopsPaying", .runs = up_to_2 + runs_of(4, 0.59), .size = 2},
      {.name = "ATieIsNoGain", .runs = one + runs_of(2, 0.98), .size = 1},
      {.name = "ThreePercentIsAGain", .runs = one + settled(2, 0.96), .size = 4},
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
      {.name = "CapSixTriesUpToFour", .runs = up_to_2 + runs_of(4, 0.4), .size = 4, .cap = 6},
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
  for (std::size_t i = 0; i < BatchLearner::kRetry; ++i) {
    EXPECT_EQ(learner.size(0, 64, 1), 1U) << "batch " << i;
    learner.learn(0, 1, 1.0);
  }
  EXPECT_EQ(learner.size(0, 64, 1), 2U) << "the neighbour above, after kRetry batches";
  learner.learn(0, 2, 1.0);  // 0.5 s an item now: the stale 1.5 is replaced, not averaged
  EXPECT_EQ(learner.best(0), 2U);
  EXPECT_EQ(learner.size(0, 64, 1), 4U) << "and the climb goes on";
}

// A retry that confirms the best doubles the batches before the next one (up to kRetryMax): a
// neighbour that keeps losing costs ever less; one that wins resets the interval.
TEST(BatchLearner, RetriesThatConfirmTheBestBackOff) {
  BatchLearner learner({2}, {true});
  for (const auto& [items, seconds] : settled(1, 1.0) + runs_of(2, 1.5)) learner.learn(0, items, seconds);
  std::vector<std::size_t> intervals;
  std::size_t batches = 0;
  while (intervals.size() < 9) {
    const std::size_t size = learner.size(0, 64, 1);
    if (size == 2) {
      intervals.push_back(batches);
      batches = 0;
      learner.learn(0, 2, 3.0);  // still 1.5 s an item stacked
    } else {
      ASSERT_EQ(size, 1U);
      ++batches;
      learner.learn(0, 1, 1.0);
    }
  }
  // The first after kRetry (the climb that lost was no retry), then twice as long each time.
  const std::size_t r = BatchLearner::kRetry;
  static_assert(BatchLearner::kRetryMax == 128 * BatchLearner::kRetry);
  EXPECT_EQ(intervals, (std::vector<std::size_t>{r, 2 * r, 4 * r, 8 * r, 16 * r, 32 * r, 64 * r,
                                                 BatchLearner::kRetryMax, BatchLearner::kRetryMax}));
}

// A climb that lost gets its second look after kRetry batches, however long the best ran before it
// (a job of 2 items after hundreds of single ones: a retry interval begun then would otherwise end at
// the climb and count it as a retry that confirmed the best, doubling the wait).
TEST(BatchLearner, ALostClimbIsLookedAtAgainAfterKRetry) {
  BatchLearner learner({8}, {true});
  for (const auto& [items, seconds] : runs_of(1, 1.0, 300) + runs_of(2, 1.2)) learner.learn(0, items, seconds);
  EXPECT_EQ(learner.best(0), 1U);
  std::size_t batches = 0;
  while (learner.size(0, 64, 1) == 1 && batches < 1000) {
    learner.learn(0, 1, 1.0);
    ++batches;
  }
  EXPECT_EQ(batches, BatchLearner::kRetry);
}

// A retry is one run, counted only past a worker's warm-up at its size: a worker of the group that is
// already warm there takes it, not one that would spend it warming up.
TEST(BatchLearner, ARetryIsTakenByAWorkerWarmAtItsSize) {
  BatchLearner learner({8, 8}, {true, true}, {0, 0});
  for (const auto& [items, seconds] : settled(1, 1.0)) learner.learn(1, items, seconds);
  for (const auto& [items, seconds] : runs_of(1, 1.0) + runs_of(2, 1.2)) learner.learn(0, items, seconds);
  EXPECT_EQ(learner.best(1), 1U);
  for (std::size_t i = 0; i < BatchLearner::kRetry; ++i) learner.learn(1, 1, 1.0);
  EXPECT_EQ(learner.size(1, 64, 1), 1U) << "worker 1 never ran 2: its run would be a warm-up";
  EXPECT_EQ(learner.size(0, 64, 1), 2U) << "worker 0 measured 2 in its climb";
  learner.learn(0, 2, 1.6);  // 0.8 s an item now
  EXPECT_EQ(learner.best(1), 2U);
}

// With the memory pattern on, ONNX Runtime's first two runs at a new shape are slow: a worker given two
// warm-up runs counts neither.
TEST(BatchLearner, TwoWarmUpRunsAreLeftOut) {
  BatchLearner learner({8, 8}, {true, true}, {}, {2, 1});
  for (int i = 0; i < 2; ++i) learner.learn(0, 1, 9.0);
  EXPECT_EQ(learner.best(0), 1U);
  for (std::size_t i = 0; i < 2 * BatchLearner::kAmortize; ++i) learner.learn(0, 1, 1.0);
  learner.learn(0, 2, 40.0);
  learner.learn(0, 2, 30.0);
  learner.learn(0, 2, 1.0);
  learner.learn(0, 2, 1.0);
  EXPECT_EQ(learner.best(0), 2U) << "only the third and fourth runs at 2 counted: 0.5 s an item against 1.0";
  learner.learn(1, 1, 9.0);
  learner.learn(1, 1, 1.0);
  learner.learn(1, 1, 1.0);
  learner.learn(1, 2, 40.0);
  learner.learn(1, 2, 30.0);
  learner.learn(1, 2, 1.0);
  EXPECT_EQ(learner.best(1), 1U) << "one warm-up: the second run at 2 counted, 15 s an item, then 0.5";
}

// Workers of one group learn together: what one measured, the others take, and a new size is tried
// by one of them only, unless it is slow to.
TEST(BatchLearner, AGroupLearnsTogether) {
  BatchLearner learner({8, 8, 8, 4}, {true, true, true, true}, {7, 7, 3, 7});
  for (const auto& [items, seconds] : settled(1, 1.0) + runs_of(2, 0.6)) learner.learn(0, items, seconds);
  EXPECT_EQ(learner.best(1), 2U) << "worker 1 takes what worker 0 learnt";
  EXPECT_EQ(learner.best(2), 1U) << "another group";
  EXPECT_EQ(learner.best(3), 1U) << "another cap";
  EXPECT_EQ(learner.size(1, 64, 1), 4U) << "the next size is due; nobody has begun it";
  learner.learn(0, 4, 8.0);  // worker 0's warm-up at 4: it is the one trying it
  EXPECT_EQ(learner.size(0, 64, 1), 4U);
  EXPECT_EQ(learner.size(1, 64, 1), 2U) << "worker 1 leaves the try to worker 0";
  // Worker 1's first run at 2 is its warm-up; then as many items as the try's due again.
  for (std::size_t i = 0; i < 1 + 2 * BatchLearner::kAmortize; ++i) learner.learn(1, 2, 1.2);
  EXPECT_EQ(learner.size(1, 64, 1), 4U) << "worker 0 is slow to measure it: worker 1 joins";
  learner.learn(0, 4, 1.6);
  learner.learn(0, 4, 1.6);
  EXPECT_EQ(learner.best(1), 4U) << "0.4 s an item at 4, measured on worker 0";
  learner.learn(1, 4, 9.0);
  learner.learn(1, 4, 1.6);
  EXPECT_EQ(learner.best(0), 4U);
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
