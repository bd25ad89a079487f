// The WidthPlanner (which width the queue's next items run at, and whether a free worker's width fits
// the cores the busy ones leave) tested from tables, without threads or sleeps, like the TailPlanner:
// each row is a pool (each worker's width, pace and state), the budget of cores, the queue's length and
// the worker deciding, with the choice expected. Paces are in whole seconds and halves so that every sum
// is exact. The same decisions under real threads are in scheduler_width_test.cpp.
#include "onnxpool/scheduling/width_planner.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "onnxpool/error.hpp"

namespace onnxpool::detail {
namespace {

using Clock = TailPlanner::Clock;

const Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);

Clock::duration seconds(double s) {
  return std::chrono::round<Clock::duration>(std::chrono::duration<double>(s));
}

constexpr double kFree = -1e9;

struct WorkerRow {
  std::size_t width = 1;
  double seconds_per_item = 0.0;  // 0: not measured yet
  double busy_left = kFree;       // kFree: free; otherwise busy with one item, due this many seconds on (< 0: overdue)
  bool start_failed = false;
};

// Two single-core workers and one as wide as the 2-core machine: the automatic pool of 2 cores.
constexpr WorkerRow narrow{.width = 1};
constexpr WorkerRow wide{.width = 2};
// Measured: narrow runs an item in 2 s, the wide one in 1 s (each twice as fast with twice the cores).
constexpr WorkerRow narrow_2s{.width = 1, .seconds_per_item = 2};
constexpr WorkerRow wide_1s{.width = 2, .seconds_per_item = 1};

struct Pool {
  TailPlanner paces;
  WidthPlanner widths;
};

Pool pool_for(const std::vector<WorkerRow>& rows, std::size_t cores) {
  std::vector<std::size_t> widths;
  for (const WorkerRow& row : rows) widths.push_back(row.width);
  Pool pool{.paces = TailPlanner(std::vector<std::size_t>(rows.size(), 1), widths),
            .widths = WidthPlanner(widths, cores)};
  for (std::size_t w = 0; w < rows.size(); ++w) {
    const WorkerRow& row = rows[w];
    if (row.seconds_per_item > 0.0) pool.paces.learn(w, row.seconds_per_item, 1);
    if (row.busy_left > kFree) {
      // One item taken long enough ago that it is due `busy_left` seconds from now.
      const double pace = row.seconds_per_item > 0.0 ? row.seconds_per_item : 1.0;
      if (row.seconds_per_item <= 0.0) pool.paces.learn(w, pace, 1);
      pool.paces.begin_batch(w, now - seconds(pace - row.busy_left), 1);
    }
    if (row.start_failed) pool.paces.mark_start_failed(w);
  }
  return pool;
}

struct PickCase {
  std::string name;
  std::vector<WorkerRow> workers;
  std::size_t cores = 2;
  std::size_t queued = 1;
  std::size_t width = 0;  // expected pick; 0: none fits
  bool guest = false;     // asked for a run_all() caller
};

std::vector<PickCase> pick_cases() {
  const std::vector<WorkerRow> four_cores = {narrow, narrow, narrow, narrow, {.width = 2}, {.width = 4}};
  return {
      {.name = "LoneItemOnAFreeMachineRunsWide", .workers = {narrow, narrow, wide}, .queued = 1, .width = 2},
      {.name = "TwoItemsRunNarrow", .workers = {narrow, narrow, wide}, .queued = 2, .width = 1},
      {.name = "ADeepQueueRunsNarrow", .workers = {narrow, narrow, wide}, .queued = 50, .width = 1},
      {.name = "ABusyNarrowLeavesOneCore",
       .workers = {{.width = 1, .busy_left = 1}, narrow, wide},
       .queued = 1,
       .width = 1},
      {.name = "ABusyWideLeavesNothing",
       .workers = {narrow, narrow, {.width = 2, .busy_left = 1}},
       .queued = 3,
       .width = 0},
      {.name = "AFailedWideIsNotPicked",
       .workers = {narrow, narrow, {.width = 2, .start_failed = true}},
       .queued = 1,
       .width = 1},
      // A caller keeps a job the wide worker finishes within kGuestGrain (2 ms): 0.5 ms a item, 4 items.
      {.name = "ACallerKeepsAJobOfTwoMillisecondsWide",
       .workers = {{.width = 1, .seconds_per_item = 1e-3},
                   {.width = 1, .seconds_per_item = 1e-3},
                   {.width = 2, .seconds_per_item = 0.5e-3}},
       .queued = 4,
       .width = 2,
       .guest = true},
      {.name = "ACallerLeavesALongerJobToTheNarrow",
       .workers = {{.width = 1, .seconds_per_item = 1e-3},
                   {.width = 1, .seconds_per_item = 1e-3},
                   {.width = 2, .seconds_per_item = 0.5e-3}},
       .queued = 5,
       .width = 1,
       .guest = true},
      {.name = "AWorkerThreadLeavesTheSmallJobToTheNarrow",
       .workers = {{.width = 1, .seconds_per_item = 1e-3},
                   {.width = 1, .seconds_per_item = 1e-3},
                   {.width = 2, .seconds_per_item = 0.5e-3}},
       .queued = 4,
       .width = 1},
      {.name = "ACallerWithTheWideUnmeasuredGoesNarrow",
       .workers = {narrow, narrow, wide},
       .queued = 2,
       .width = 1,
       .guest = true},
      {.name = "FourCoresOneItemRunsOnAll", .workers = four_cores, .cores = 4, .queued = 1, .width = 4},
      {.name = "FourCoresTwoItemsRunOnTwoEach", .workers = four_cores, .cores = 4, .queued = 2, .width = 2},
      {.name = "FourCoresThreeItemsRunNarrow", .workers = four_cores, .cores = 4, .queued = 3, .width = 1},
      {.name = "FourCoresTwoFreeOneItemRunsOnTwo",
       .workers =
           {{.width = 1, .busy_left = 1}, {.width = 1, .busy_left = 1}, narrow, narrow, {.width = 2}, {.width = 4}},
       .cores = 4,
       .queued = 1,
       .width = 2},
  };
}

class Pick : public testing::TestWithParam<PickCase> {};
INSTANTIATE_TEST_SUITE_P(Table, Pick, testing::ValuesIn(pick_cases()),
                         [](const testing::TestParamInfo<PickCase>& row) { return row.param.name; });

TEST_P(Pick, GivesEachQueuedItemItsShareOfTheFreeCores) {
  const PickCase& row = GetParam();
  const Pool pool = pool_for(row.workers, row.cores);
  EXPECT_EQ(pool.widths.pick(pool.paces, row.queued, row.guest), row.width);
}

struct DecideCase {
  std::string name;
  std::vector<WorkerRow> workers;
  std::size_t worker = 0;
  std::size_t queued = 1;
  bool take = true;
  std::size_t better = 0;      // when it waits: for this worker (3: none in particular)...
  double recheck_after = 0.0;  // ...looking again this many seconds on
};

std::vector<DecideCase> decide_cases() {
  constexpr std::size_t none = 3;
  return {
      {.name = "WideTakesALoneItem", .workers = {narrow, narrow, wide}, .worker = 2},
      {.name = "NarrowLeavesALoneItemToTheWide",
       .workers = {narrow, narrow, wide},
       .take = false,
       .better = 2,
       .recheck_after = 10e-3},
      {.name = "WideLeavesADeepQueueToTheNarrow",
       .workers = {narrow, narrow, wide},
       .worker = 2,
       .queued = 4,
       .take = false,
       .better = 0,
       .recheck_after = 10e-3},
      {.name = "NarrowTakesFromADeepQueue", .workers = {narrow, narrow, wide}, .queued = 4},
      {.name = "WideDoesNotFitBesideABusyNarrow",
       .workers = {{.width = 1, .seconds_per_item = 2, .busy_left = 1.5}, narrow, wide},
       .worker = 2,
       .take = false,
       .better = none,
       .recheck_after = 6},  // a safety net only: the busy one's end wakes whoever should look
      {.name = "NarrowTakesTheLastItemWhileTheWideIsUnmeasured",
       .workers = {narrow_2s, {.width = 1, .seconds_per_item = 2, .busy_left = 0.5}, wide}},
      // The third of 3 items on 2 cores: its peer is due in 0.5 s, then the wide one needs 1 s: 1.5 s
      // against the 2 s this narrow one needs now.
      {.name = "NarrowLeavesTheLastItemToTheWideWhenItsPeerEndsSoon",
       .workers = {narrow_2s, {.width = 1, .seconds_per_item = 2, .busy_left = 0.5}, wide_1s},
       .take = false,
       .better = 2,
       .recheck_after = 0.5},
      {.name = "NarrowTakesTheLastItemWhenItsPeerEndsLate",
       .workers = {narrow_2s, {.width = 1, .seconds_per_item = 2, .busy_left = 1.5}, wide_1s}},
      // A peer a little past its expected end (run times vary) is taken to end within a quarter of its
      // pace: 0.4 s, then 1 s wide, against 2 s narrow. Long overdue, it is assumed to need as long again.
      {.name = "APeerSlightlyOverdueIsWaitedFor",
       .workers = {narrow_2s, {.width = 1, .seconds_per_item = 2, .busy_left = -0.1}, wide_1s},
       .take = false,
       .better = 2,
       .recheck_after = 0.4},
      {.name = "APeerLongOverdueIsNotWaitedFor",
       .workers = {narrow_2s, {.width = 1, .seconds_per_item = 2, .busy_left = -1}, wide_1s}},
      {.name = "NarrowTakesWhenTwoItemsFillTheMachine",
       .workers = {narrow_2s, {.width = 1, .seconds_per_item = 2, .busy_left = 0.5}, wide_1s},
       .queued = 2},
      {.name = "AFailedWideTakesAtOnce",
       .workers = {narrow, narrow, {.width = 2, .start_failed = true}},
       .worker = 2,
       .queued = 4},
      {.name = "OutsideTheBudgetTakes", .workers = {{.width = 0}, narrow, wide}, .queued = 1},
  };
}

class Decide : public testing::TestWithParam<DecideCase> {};
INSTANTIATE_TEST_SUITE_P(Table, Decide, testing::ValuesIn(decide_cases()),
                         [](const testing::TestParamInfo<DecideCase>& row) { return row.param.name; });

TEST_P(Decide, TakesOnlyWhenItsWidthFitsAndSuitsTheQueue) {
  const DecideCase& row = GetParam();
  const Pool pool = pool_for(row.workers, 2);
  const WidthPlanner::Verdict verdict = pool.widths.decide(row.worker, pool.paces, now, row.queued);
  EXPECT_EQ(verdict.take, row.take);
  if (row.take) return;
  EXPECT_EQ(verdict.better, row.better);
  EXPECT_NEAR(std::chrono::duration<double>(verdict.recheck - now).count(), row.recheck_after, 1e-6);
}

TEST(WidthPlanner, WithoutABudgetEveryWorkerTakes) {
  const Pool pool = pool_for({narrow, narrow, wide}, 0);
  EXPECT_FALSE(pool.widths.active());
  for (std::size_t w = 0; w < 3; ++w) EXPECT_TRUE(pool.widths.decide(w, pool.paces, now, 1).take) << w;
}

TEST(WidthPlanner, AWorkerWiderThanTheBudgetIsAnErrorNamingIt) {
  try {
    WidthPlanner planner({1, 3}, 2);
    FAIL() << "accepted a worker 3 cores wide on a budget of 2";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "worker 1 is 3 cores wide, more than the 2 cores the workers share");
  }
}

TEST(WidthPlanner, WakesAsManyWaitingWorkersOfThePickedWidthAsTheQueueAndCoresCanUse) {
  Pool pool = pool_for({narrow, narrow, wide, narrow}, 2);
  for (std::size_t w = 0; w < 4; ++w) pool.paces.set_waiting(w, true);
  std::vector<std::size_t> woken;
  const auto record = [&](std::size_t w) { woken.push_back(w); };
  pool.widths.for_each_to_wake(pool.paces, 1, record);
  EXPECT_EQ(woken, std::vector<std::size_t>{2});  // a lone item: the wide one
  woken.clear();
  pool.widths.for_each_to_wake(pool.paces, 10, record);
  EXPECT_EQ(woken, (std::vector<std::size_t>{0, 1}));  // two cores: two narrow ones, not the third
  woken.clear();
  pool.paces.set_waiting(0, false);
  pool.widths.for_each_to_wake(pool.paces, 10, record);
  EXPECT_EQ(woken, (std::vector<std::size_t>{1, 3}));  // only waiting ones
  woken.clear();
  pool.widths.for_each_to_wake(pool.paces, 0, record);
  EXPECT_TRUE(woken.empty());
}

}  // namespace
}  // namespace onnxpool::detail
