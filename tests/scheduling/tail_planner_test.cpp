// The dynamic policy's tail look-ahead (TailPlanner) tested from tables, without threads or sleeps, the
// way taskflow tests its partitioners: each row is a set of workers (pace, batch size, busy or not, failed
// to start or not), the free worker deciding and the queue's length, and the decision expected.
//
// Paces are in whole seconds (and halves), so that every sum the planner makes is exact and the rows
// state the exact makespans; only the ratios matter to a decision, not the scale.
#include "onnxpool/scheduling/tail_planner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace onnxpool::detail {
namespace {

using Clock = TailPlanner::Clock;
using Available = TailPlanner::Available;

// An arbitrary "now": the planner only ever looks at differences.
const Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);

Clock::duration seconds(double s) {
  return std::chrono::round<Clock::duration>(std::chrono::duration<double>(s));
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// One worker of a table row.
struct WorkerRow {
  double seconds_per_item = 0.0;  // 0: not measured yet
  std::size_t max_batch = 1;
  std::size_t busy_items = 0;  // 0: free; otherwise inside a batch of this many items...
  double busy_for = 0.0;       // ...taken this many seconds before `now`
  bool start_failed = false;
  bool waiting = false;
};

// The planner in the state a row describes, reached through the calls DynamicQueue makes.
TailPlanner planner_for(const std::vector<WorkerRow>& rows) {
  std::vector<std::size_t> max_batches;
  for (const WorkerRow& row : rows) max_batches.push_back(row.max_batch);
  TailPlanner planner(max_batches);
  for (std::size_t w = 0; w < rows.size(); ++w) {
    const WorkerRow& row = rows[w];
    // A warm-up run, then the one that sets its pace (the second replaces the first).
    if (row.seconds_per_item > 0.0) planner.learn(w, 10 * row.seconds_per_item, 1);
    if (row.seconds_per_item > 0.0) planner.learn(w, row.seconds_per_item, 1);
    if (row.busy_items > 0) planner.begin_batch(w, now - seconds(row.busy_for), row.busy_items);
    if (row.start_failed) planner.mark_start_failed(w);
    planner.set_waiting(w, row.waiting);
  }
  return planner;
}

// A table row's name as the test's.
template <class Case>
std::string case_name(const testing::TestParamInfo<Case>& row) {
  return row.param.name;
}

// ---------------------------------------------------------------------------------------------------
// decide(): take or leave.

struct DecideCase {
  std::string name;
  std::vector<WorkerRow> workers;
  std::size_t worker = 0;  // the free one deciding
  std::size_t queued = 0;
  std::size_t take = 0;        // 0: it leaves the items...
  std::size_t better = 0;      // ...to this worker...
  double recheck_after = 0.0;  // ...and looks again this many seconds on
};

// Slow and fast stand for a CPU and a GPU worker, 20x apart.
constexpr WorkerRow slow{.seconds_per_item = 20};
constexpr WorkerRow fast{.seconds_per_item = 1};
constexpr double no_busy_recheck = 1e-3;  // nobody busy: look again in 1 ms

std::vector<DecideCase> decide_cases() {
  return {
      // Who takes without looking ahead.
      {.name = "UnmeasuredTakesAFullBatch", .workers = {{.max_batch = 4}, fast}, .queued = 10, .take = 4},
      {.name = "UnmeasuredTakesAllOfAShortQueue", .workers = {{.max_batch = 4}, fast}, .queued = 3, .take = 3},
      {.name = "FailedToStartTakesAtOnce",
       .workers = {{.seconds_per_item = 20, .max_batch = 2, .start_failed = true}, fast},
       .queued = 3,
       .take = 2},
      {.name = "AloneTakes", .workers = {{.seconds_per_item = 20, .max_batch = 2}}, .queued = 5, .take = 2},
      {.name = "UnmeasuredOtherIsNotCountedOn", .workers = {slow, {}}, .queued = 6, .take = 1},
      {.name = "FailedOtherIsNotCountedOn",
       .workers = {slow, {.seconds_per_item = 1, .start_failed = true}},
       .queued = 6,
       .take = 1},
      {.name = "FastestTakesFirst", .workers = {slow, fast}, .worker = 1, .queued = 1, .take = 1},

      // Slow beside a free fast worker: it leaves a short queue, helps with a long one. 20 items is the
      // tie (20 s either way), which takes.
      {.name = "SlowLeavesSixItems",
       .workers = {slow, fast},
       .queued = 6,
       .better = 1,
       .recheck_after = no_busy_recheck},
      {.name = "SlowLeaves19Items",
       .workers = {slow, fast},
       .queued = 19,
       .better = 1,
       .recheck_after = no_busy_recheck},
      {.name = "SlowTakesWhenTheMakespansTie", .workers = {slow, fast}, .queued = 20, .take = 1},
      {.name = "SlowTakesFrom21Items", .workers = {slow, fast}, .queued = 21, .take = 1},
      {.name = "SlowTakesFromALongQueue", .workers = {slow, fast}, .queued = 200, .take = 1},
      {.name = "UnmeasuredThirdChangesNothing",
       .workers = {slow, fast, {}},
       .queued = 6,
       .better = 1,
       .recheck_after = no_busy_recheck},
      {.name = "LeavesToTheOnlyOneCountedOn",
       .workers = {slow, {.seconds_per_item = 1, .start_failed = true}, {.seconds_per_item = 2}},
       .queued = 3,
       .better = 2,
       .recheck_after = no_busy_recheck},

      // A slow worker with a batch of its own weighs the whole batch.
      {.name = "SlowBatchTakesFromALongQueue",
       .workers = {{.seconds_per_item = 20, .max_batch = 4}, fast},
       .queued = 100,
       .take = 4},
      {.name = "SlowBatchLeavesAMediumQueue",
       .workers = {{.seconds_per_item = 20, .max_batch = 4}, fast},
       .queued = 50,
       .better = 1,
       .recheck_after = no_busy_recheck},

      // A GPU-like worker running 8 items at once (0.25 ms an item) beside a 10 ms CPU one: 16 items are
      // two fast runs against one slow item; 48 leave the slow one time for an item.
      {.name = "BatchingFastTakesAShortQueue",
       .workers = {{.seconds_per_item = 40}, {.seconds_per_item = 1, .max_batch = 8}},
       .queued = 16,
       .better = 1,
       .recheck_after = no_busy_recheck},
      {.name = "BatchingFastSharesALongQueue",
       .workers = {{.seconds_per_item = 40}, {.seconds_per_item = 1, .max_batch = 8}},
       .queued = 48,
       .take = 1},

      // Busy workers: free in (expected - elapsed), or, once overdue, in as long again as they have run.
      // The recheck is when the soonest busy one is due.
      {.name = "SlowWaitsForABusyFastOne",
       .workers = {slow, {.seconds_per_item = 1, .busy_items = 10, .busy_for = 4}},
       .queued = 5,
       .better = 1,
       .recheck_after = 6},
      {.name = "SlowTakesWhenTheFastOneIsBusyLong",
       .workers = {slow, {.seconds_per_item = 1, .busy_items = 30, .busy_for = 5}},
       .queued = 1,
       .take = 1},
      {.name = "OverdueIsAssumedToNeedAsLongAgain",
       .workers = {slow, {.seconds_per_item = 1, .busy_items = 2, .busy_for = 5}},
       .queued = 3,
       .better = 1,
       .recheck_after = 5},
      {.name = "LongOverdueIsNotWaitedFor",
       .workers = {slow, {.seconds_per_item = 1, .busy_items = 2, .busy_for = 30}},
       .queued = 3,
       .take = 1},
      {.name = "RecheckIsAtLeast50Microseconds",
       .workers = {slow, {.seconds_per_item = 1, .busy_items = 1, .busy_for = 0.99999}},
       .queued = 2,
       .better = 1,
       .recheck_after = 50e-6},

      // Three workers: the items go to whoever would finish the first of them soonest, busy or not.
      {.name = "LeavesToTheFreeOneThatFinishesFirst",
       .workers = {{.seconds_per_item = 3},
                   {.seconds_per_item = 2},
                   {.seconds_per_item = 1, .busy_items = 2, .busy_for = 0.5}},
       .queued = 2,
       .better = 1,
       .recheck_after = 1.5},
      {.name = "LeavesToTheBusyOneThatFinishesFirst",
       .workers = {{.seconds_per_item = 3},
                   {.seconds_per_item = 2},
                   {.seconds_per_item = 1, .busy_items = 2, .busy_for = 1.5}},
       .queued = 2,
       .better = 2,
       .recheck_after = 0.5},
      {.name = "HalfSpeedTakesTheFourthOfFour",
       .workers = {{.seconds_per_item = 2}, fast, fast},
       .queued = 4,
       .take = 1},
      {.name = "HalfSpeedTakesTheThirdOfThree",
       .workers = {{.seconds_per_item = 2}, fast, fast},
       .queued = 3,
       .take = 1},
      {.name = "HalfSpeedLeavesTwo",
       .workers = {{.seconds_per_item = 2}, fast, fast},
       .queued = 2,
       .better = 1,
       .recheck_after = no_busy_recheck},
  };
}

class Decide : public testing::TestWithParam<DecideCase> {};
INSTANTIATE_TEST_SUITE_P(Table, Decide, testing::ValuesIn(decide_cases()), case_name<DecideCase>);

TEST_P(Decide, TakesOrLeavesTheQueue) {
  const DecideCase& row = GetParam();
  const TailPlanner planner = planner_for(row.workers);
  const TailPlanner::Decision decision = planner.decide(row.worker, now, row.queued);
  EXPECT_EQ(decision.take, row.take);
  if (row.take > 0) {
    EXPECT_EQ(decision.better, row.worker);
    EXPECT_EQ(decision.recheck, now);
  } else {
    EXPECT_EQ(decision.better, row.better);
    EXPECT_NEAR(seconds_between(now, decision.recheck), row.recheck_after, 1e-6);
  }
}

// Sweeps over speed mixes, batch sizes, busy states and queue lengths: the rules that keep the dynamic
// queue live and its batches whole, whatever the estimates.
TEST(DecideSweep, ATakeIsAFullBatchAndADeclineNamesAnotherCountedWorkerAndALaterRecheck) {
  const std::vector<std::vector<double>> speed_mixes = {{1},       {1, 1},        {1, 20},        {20, 1},
                                                        {1, 2, 3}, {3, 1, 1, 40}, {0.5, 8, 8, 8}, {1, 0, 20}};
  const std::vector<std::size_t> batches = {1, 2, 8};
  const std::vector<double> busy_fors = {-1.0, 0.25, 3.0, 50.0};  // -1: free
  int decisions = 0;
  for (const auto& speeds : speed_mixes) {
    for (std::size_t batch : batches) {
      for (double busy_for : busy_fors) {
        for (std::size_t queued = 1; queued <= 40; ++queued) {
          std::vector<WorkerRow> rows;
          for (std::size_t w = 0; w < speeds.size(); ++w) {
            // Batches differ by worker; the last worker is the busy one (when any is).
            WorkerRow row{.seconds_per_item = speeds[w], .max_batch = w % 2 == 0 ? batch : 1};
            if (busy_for >= 0.0 && w + 1 == speeds.size() && speeds.size() > 1) {
              row.busy_items = 3;
              row.busy_for = busy_for;
            }
            rows.push_back(row);
          }
          const TailPlanner planner = planner_for(rows);
          bool some_free_takes = false;
          for (std::size_t w = 0; w < rows.size(); ++w) {
            if (rows[w].busy_items > 0) continue;  // only free workers decide
            SCOPED_TRACE("speeds[0]=" + std::to_string(speeds[0]) + " workers=" + std::to_string(speeds.size()) +
                         " batch=" + std::to_string(batch) + " busy_for=" + std::to_string(busy_for) +
                         " queued=" + std::to_string(queued) + " worker=" + std::to_string(w));
            const TailPlanner::Decision decision = planner.decide(w, now, queued);
            ++decisions;
            if (decision.take > 0) {
              some_free_takes = true;
              EXPECT_EQ(decision.take, std::min(rows[w].max_batch, queued));
              continue;
            }
            EXPECT_GT(rows[w].seconds_per_item, 0.0) << "an unmeasured worker declined";
            EXPECT_NE(decision.better, w);
            ASSERT_LT(decision.better, rows.size());
            EXPECT_GT(rows[decision.better].seconds_per_item, 0.0) << "left to an unmeasured worker";
            EXPECT_GE(seconds_between(now, decision.recheck), 50e-6 - 1e-9);
          }
          // With every worker free, the one that would finish its batch first always takes.
          if (busy_for < 0.0) {
            EXPECT_TRUE(some_free_takes) << "every free worker declined";
          }
        }
      }
    }
  }
  EXPECT_GT(decisions, 1000);
}

// ---------------------------------------------------------------------------------------------------
// makespan(): the queue spread over the others by earliest finish.

struct MakespanCase {
  std::string name;
  std::vector<WorkerRow> workers;  // paces and batches
  std::vector<Available> others;   // who may take, and when each is free
  std::size_t items = 0;
  double seconds = 0.0;
  std::size_t first = 0;
};

std::vector<MakespanCase> makespan_cases() {
  return {
      {.name = "NoItems", .workers = {fast}, .others = {{.worker = 0}}, .items = 0, .seconds = 0, .first = 1},
      {.name = "NoOneToDoThem",
       .workers = {fast},
       .others = {},
       .items = 3,
       .seconds = std::numeric_limits<double>::infinity(),
       .first = 1},
      {.name = "OneWorkerOneAtATime", .workers = {fast}, .others = {{.worker = 0}}, .items = 5, .seconds = 5},
      {.name = "OneWorkerInBatches",  // 4 + 4 + 2 items
       .workers = {{.seconds_per_item = 1, .max_batch = 4}},
       .others = {{.worker = 0}},
       .items = 10,
       .seconds = 10},
      {.name = "AlreadyBusy", .workers = {fast}, .others = {{.worker = 0, .free_in = 2.5}}, .items = 2, .seconds = 4.5},
      {.name = "FastTakesThreeSlowOne",  // 1, 2, 3 on the fast one (the tie at 3 goes to the first listed), 3
       .workers = {fast, {.seconds_per_item = 3}},
       .others = {{.worker = 0}, {.worker = 1}},
       .items = 4,
       .seconds = 3,
       .first = 0},
      {.name = "TheFreeOneGoesFirst",  // the busy fast one only takes the third, at 6
       .workers = {fast, {.seconds_per_item = 2}},
       .others = {{.worker = 0, .free_in = 5}, {.worker = 1}},
       .items = 3,
       .seconds = 6,
       .first = 1},
      {.name = "ListOrderOnlyBreaksTies",
       .workers = {fast, {.seconds_per_item = 2}},
       .others = {{.worker = 1}, {.worker = 0, .free_in = 5}},
       .items = 3,
       .seconds = 6,
       .first = 1},
      {.name = "BatchingWorkerTakesEightAtOnce",  // 8 by 8, 1 on the slow one at 10, 7 by 15
       .workers = {{.seconds_per_item = 1, .max_batch = 8}, {.seconds_per_item = 10}},
       .others = {{.worker = 0}, {.worker = 1}},
       .items = 16,
       .seconds = 15,
       .first = 0},
      {.name = "OnlyTheListedCount",  // worker 0 is not among the others
       .workers = {fast, {.seconds_per_item = 2}},
       .others = {{.worker = 1}},
       .items = 3,
       .seconds = 6,
       .first = 1},
  };
}

class Makespan : public testing::TestWithParam<MakespanCase> {};
INSTANTIATE_TEST_SUITE_P(Table, Makespan, testing::ValuesIn(makespan_cases()), case_name<MakespanCase>);

TEST_P(Makespan, SpreadsTheItemsByEarliestFinish) {
  const MakespanCase& row = GetParam();
  const TailPlanner planner = planner_for(row.workers);
  const TailPlanner::Makespan result = planner.makespan(row.others, row.items);
  if (std::isinf(row.seconds)) {
    EXPECT_TRUE(std::isinf(result.seconds));
  } else {
    EXPECT_DOUBLE_EQ(result.seconds, row.seconds);
  }
  // NoItems and NoOneToDoThem name no first worker: worker_count(), 1 for their one worker.
  EXPECT_EQ(result.first, row.first);
}

// ---------------------------------------------------------------------------------------------------
// learn(): the moving average, and the warm-up rule.

struct LearnCase {
  std::string name;
  std::vector<std::pair<double, std::size_t>> runs;  // (seconds, items), in order
  double seconds_per_item = 0.0;
};

std::vector<std::pair<double, std::size_t>> first_then_repeated(std::pair<double, std::size_t> first,
                                                                std::pair<double, std::size_t> then, int times) {
  std::vector<std::pair<double, std::size_t>> runs{first};
  for (int i = 0; i < times; ++i) runs.push_back(then);
  return runs;
}

// `runs` after a warm-up run, which the first of them replaces.
std::vector<std::pair<double, std::size_t>> warmed(std::vector<std::pair<double, std::size_t>> runs) {
  runs.insert(runs.begin(), {9.0, 1});
  return runs;
}

std::vector<LearnCase> learn_cases() {
  return {
      {.name = "NothingLearntIsUnmeasured", .runs = {}, .seconds_per_item = 0},
      {.name = "ARunOfNoItemsTeachesNothing", .runs = {{5.0, 0}}, .seconds_per_item = 0},
      {.name = "TheFirstRunIsTakenAsIs", .runs = {{0.5, 1}}, .seconds_per_item = 0.5},
      {.name = "ABatchCountsPerItem", .runs = {{4.0, 8}}, .seconds_per_item = 0.5},
      {.name = "AnInstantRunStillCountsAsMeasured", .runs = {{0.0, 1}}, .seconds_per_item = 1e-9},
      {.name = "TheSecondRunReplacesTheFirst", .runs = {{0.5, 1}, {0.4, 1}}, .seconds_per_item = 0.4},
      {.name = "ASlowerRunWeighsThreeTenths", .runs = warmed({{1.0, 1}, {2.0, 1}}), .seconds_per_item = 1.3},
      {.name = "AFasterRunWeighsThreeTenths", .runs = warmed({{1.0, 1}, {0.5, 1}}), .seconds_per_item = 0.85},
      {.name = "ExactlyFourTimesFasterIsAveraged", .runs = warmed({{1.0, 1}, {0.25, 1}}), .seconds_per_item = 0.775},
      {.name = "MoreThanFourTimesFasterReplaces", .runs = warmed({{1.0, 1}, {0.2, 1}}), .seconds_per_item = 0.2},
      {.name = "AWarmUpIsForgottenAtOnce", .runs = {{0.1, 1}, {0.001, 1}}, .seconds_per_item = 0.001},
      {.name = "AWarmUpBatchIsForgottenAtOnce", .runs = {{0.8, 8}, {0.002, 8}}, .seconds_per_item = 0.00025},
      {.name = "ThreeTimesFasterIsAveraged", .runs = warmed({{0.1, 1}, {0.03, 1}}), .seconds_per_item = 0.079},
      {.name = "TenSlowerRunsConverge",  // 2 - 0.7^10
       .runs = warmed(first_then_repeated({1.0, 1}, {2.0, 1}, 10)),
       .seconds_per_item = 2.0 - std::pow(0.7, 10)},
  };
}

class Learn : public testing::TestWithParam<LearnCase> {};
INSTANTIATE_TEST_SUITE_P(Table, Learn, testing::ValuesIn(learn_cases()), case_name<LearnCase>);

TEST_P(Learn, AveragesSecondsPerItem) {
  TailPlanner planner({1, 1});
  for (const auto& [seconds_taken, items] : GetParam().runs) planner.learn(0, seconds_taken, items);
  EXPECT_NEAR(planner.pace(0).seconds_per_item, GetParam().seconds_per_item, 1e-12);
  EXPECT_EQ(planner.pace(1).seconds_per_item, 0.0) << "another worker's pace changed";
}

TEST(TailPlanner, ABatchIsLearntWhenItEndsUnlessTheWorkerFailedToStart) {
  TailPlanner planner({4, 4});
  planner.end_batch(0, 3.0, 2);  // no batch begun: nothing to learn
  EXPECT_EQ(planner.pace(0).seconds_per_item, 0.0);

  planner.begin_batch(0, now, 2);
  EXPECT_TRUE(planner.pace(0).busy);
  EXPECT_EQ(planner.pace(0).started, now);
  EXPECT_EQ(planner.pace(0).expected, 0.0);  // unmeasured: no estimate
  planner.end_batch(0, 3.0, 2);
  EXPECT_FALSE(planner.pace(0).busy);
  EXPECT_EQ(planner.pace(0).seconds_per_item, 1.5);

  planner.begin_batch(0, now, 4);
  EXPECT_EQ(planner.pace(0).expected, 6.0);  // 4 items at 1.5 s

  planner.mark_start_failed(1);
  planner.begin_batch(1, now, 2);
  planner.end_batch(1, 0.001, 2);  // instant failures are not a pace
  EXPECT_EQ(planner.pace(1).seconds_per_item, 0.0);
  EXPECT_FALSE(planner.pace(1).busy);
}

// A worker seen only once is not left out on that run's word: a session's first run is a cold one
// (memory planned, caches filled), and a worker that looks slow is seldom given the items to correct it.
TEST(TailPlanner, AWorkerSeenOnceTakesWhatItCan) {
  TailPlanner planner({1, 1});
  planner.learn(0, 0.040, 1);
  planner.learn(1, 0.010, 1);
  planner.learn(1, 0.010, 1);
  EXPECT_EQ(planner.decide(0, now, 2).take, 1U) << "its second run will tell";
  planner.learn(0, 0.040, 1);
  EXPECT_EQ(planner.decide(0, now, 2).take, 0U) << "measured four times slower twice, it leaves a short queue";
}

TEST(TailPlanner, AfterAWarmUpTheSteadyWorkerLeavesTheWarmedOneAShortQueue) {
  // A GPU-like worker whose first run took 100 ms (loading kernels), beside a steady 20 ms one.
  TailPlanner planner({1, 1});
  planner.learn(0, 0.100, 1);
  planner.learn(1, 0.020, 1);
  planner.learn(1, 0.020, 1);
  EXPECT_EQ(planner.decide(1, now, 6).take, 1U) << "the steady one is the faster so far";
  planner.learn(0, 0.001, 1);  // its first fast run
  const TailPlanner::Decision decision = planner.decide(1, now, 6);
  EXPECT_EQ(decision.take, 0U);
  EXPECT_EQ(decision.better, 0U);
}

// ---------------------------------------------------------------------------------------------------
// best_waiting(): whom to wake for queued items.

struct WakeCase {
  std::string name;
  std::vector<WorkerRow> workers;
  std::size_t except = 0;
  std::size_t woken = 0;
};

std::vector<WakeCase> wake_cases() {
  const WorkerRow waiting_unmeasured{.waiting = true};
  const auto waiting = [](double seconds_per_item) {
    return WorkerRow{.seconds_per_item = seconds_per_item, .waiting = true};
  };
  return {
      {.name = "NoneWaits", .workers = {fast, slow}, .except = 2, .woken = 2},
      {.name = "OnlyTheExceptedWaits", .workers = {waiting(1), slow}, .except = 0, .woken = 2},
      {.name = "TheOneWaiting", .workers = {fast, waiting(20)}, .except = 2, .woken = 1},
      {.name = "UnmeasuredFirst", .workers = {waiting(1), waiting_unmeasured, waiting(0.5)}, .except = 3, .woken = 1},
      {.name = "ThenTheFastest", .workers = {waiting(2), waiting(1), waiting(3)}, .except = 3, .woken = 1},
      {.name = "TheFastestOnlyIfWaiting",
       .workers = {waiting(2), waiting(1), {.seconds_per_item = 0.5}},
       .except = 3,
       .woken = 1},
      {.name = "TiesGoToTheLowestIndex", .workers = {waiting(2), waiting(1), waiting(1)}, .except = 3, .woken = 1},
      {.name = "TheExceptedIsSkipped", .workers = {waiting(2), waiting(1), waiting(3)}, .except = 1, .woken = 0},
      {.name = "UnmeasuredTiesGoToTheLowestIndex",
       .workers = {waiting(1), waiting_unmeasured, waiting_unmeasured},
       .except = 3,
       .woken = 1},
  };
}

class BestWaiting : public testing::TestWithParam<WakeCase> {};
INSTANTIATE_TEST_SUITE_P(Table, BestWaiting, testing::ValuesIn(wake_cases()), case_name<WakeCase>);

TEST_P(BestWaiting, PicksUnmeasuredThenFastest) {
  const TailPlanner planner = planner_for(GetParam().workers);
  EXPECT_EQ(planner.best_waiting(GetParam().except), GetParam().woken);
}

}  // namespace
}  // namespace onnxpool::detail
