// The dynamic policy with a budget of cores (width_planner.hpp) under real threads: fake workers of
// different widths whose time per item depends on their width (an item takes base / width) and on how
// many cores are busy around them (twice as long while the busy widths exceed the machine), as ONNX
// Runtime sessions sharing cores would. Asserted: which width runs the items in each regime (lone items,
// a burst, a trickle then a burst, the last of three), that the busy widths never exceed the budget, and
// that every result comes back in order. Built and run under ThreadSanitizer (the `scheduler_width` label).
//
// Timing: the workers sleep (no CPU needed), and the one decision that rests on timing (the last of
// three items waits for the wide worker) has a 20 ms margin; see there.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "onnxpool/scheduling/scheduler.hpp"

namespace onnxpool {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kCores = 2;
constexpr std::size_t kWide = 2;  // the wide worker's index: after the two narrow ones

// A machine of kCores cores, and what ran where on it.
class FakeMachine {
 public:
  explicit FakeMachine(std::chrono::milliseconds base) : base_(base) {}

  // Two single-core workers and one as wide as the machine, as the automatic pool of 2 cores.
  std::vector<WorkerSlot<int, int>> slots() {
    std::vector<WorkerSlot<int, int>> slots;
    for (const std::size_t width : {std::size_t{1}, std::size_t{1}, kCores}) {
      const std::size_t w = slots.size();
      slots.push_back({.name = "fake#" + std::to_string(w),
                       .max_batch = 1,
                       .width = width,
                       .on_start = {},
                       .run = [this, w, width](std::vector<int>& batch) { return run(w, width, batch); }});
    }
    return slots;
  }

  // Which worker ran item `item` (items are their own indices).
  std::size_t ran(int item) {
    const std::lock_guard lock(mutex_);
    return ran_by_.at(static_cast<std::size_t>(item));
  }
  std::size_t items_on(std::size_t worker) {
    const std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count(ran_by_.begin(), ran_by_.end(), worker));
  }
  [[nodiscard]] std::size_t most_busy_cores() const { return most_busy_.load(); }

 private:
  std::vector<int> run(std::size_t worker, std::size_t width, std::vector<int>& batch) {
    const std::size_t busy = busy_ += width;
    std::size_t seen = most_busy_.load();
    while (busy > seen && !most_busy_.compare_exchange_weak(seen, busy)) {
    }
    // An item takes base / width, twice that when the cores are oversubscribed.
    std::this_thread::sleep_for(base_ / width * (busy > kCores ? 2 : 1));
    busy_ -= width;
    {
      const std::lock_guard lock(mutex_);
      for (const int item : batch) {
        if (ran_by_.size() <= static_cast<std::size_t>(item)) ran_by_.resize(static_cast<std::size_t>(item) + 1, 99);
        ran_by_[static_cast<std::size_t>(item)] = worker;
      }
    }
    std::vector<int> results;
    for (const int item : batch) results.push_back(item * 10);
    return results;
  }

  std::chrono::milliseconds base_;
  std::atomic<std::size_t> busy_{0};
  std::atomic<std::size_t> most_busy_{0};
  std::mutex mutex_;
  std::vector<std::size_t> ran_by_;
};

std::vector<int> items_from(int first, int count) {
  std::vector<int> items(static_cast<std::size_t>(count));
  std::iota(items.begin(), items.end(), first);
  return items;
}

std::vector<int> times_ten(const std::vector<int>& items) {
  std::vector<int> results;
  for (const int item : items) results.push_back(item * 10);
  return results;
}

TEST(SchedulerWidth, LoneItemsRunOnTheWideWorker) {
  FakeMachine machine(4ms);
  Scheduler<int, int> scheduler(machine.slots(), Policy::Dynamic, kCores);
  for (int item = 0; item < 8; ++item) {
    EXPECT_EQ(scheduler.submit(item).get(), item * 10);
    EXPECT_EQ(machine.ran(item), kWide) << "item " << item;
  }
  EXPECT_LE(machine.most_busy_cores(), kCores);
}

TEST(SchedulerWidth, ABurstRunsOnTheNarrowWorkersWithoutOversubscribing) {
  FakeMachine machine(4ms);
  Scheduler<int, int> scheduler(machine.slots(), Policy::Dynamic, kCores);
  const auto items = items_from(0, 40);
  EXPECT_EQ(scheduler.run_all(items), times_ten(items));
  // The wide worker may take the last item (when both narrow ones end together), nothing else.
  EXPECT_LE(machine.items_on(kWide), 1U);
  EXPECT_GE(machine.items_on(0), 15U);
  EXPECT_GE(machine.items_on(1), 15U);
  EXPECT_LE(machine.most_busy_cores(), kCores);
}

TEST(SchedulerWidth, ATrickleRunsWideThenABurstNarrowThenATrickleWideAgain) {
  FakeMachine machine(4ms);
  Scheduler<int, int> scheduler(machine.slots(), Policy::Dynamic, kCores);
  for (int item = 0; item < 4; ++item) EXPECT_EQ(scheduler.submit(item).get(), item * 10);
  // The burst through submit(), one push at a time: the first may start wide before the rest arrive.
  std::vector<std::future<int>> burst;
  for (int item = 4; item < 34; ++item) burst.push_back(scheduler.submit(item));
  for (std::size_t i = 0; i < burst.size(); ++i) EXPECT_EQ(burst[i].get(), static_cast<int>(i + 4) * 10);
  for (int item = 34; item < 38; ++item) EXPECT_EQ(scheduler.submit(item).get(), item * 10);

  for (int item = 0; item < 4; ++item) EXPECT_EQ(machine.ran(item), kWide) << "trickle item " << item;
  std::size_t burst_wide = 0;
  for (int item = 4; item < 34; ++item) burst_wide += machine.ran(item) == kWide ? 1 : 0;
  EXPECT_LE(burst_wide, 3U) << "of 30 burst items ran wide";
  for (int item = 34; item < 38; ++item) EXPECT_EQ(machine.ran(item), kWide) << "trickle item " << item;
  EXPECT_LE(machine.most_busy_cores(), kCores);
}

TEST(SchedulerWidth, TheLastOfThreeItemsWaitsForBothCoresAndRunsWide) {
  // Narrow 40 ms an item, wide 20 ms. Once both have been measured, 3 items run as two narrow ones, then
  // the third wide: the first narrow worker to end sees its peer due within a few ms, and 20 ms wide
  // beats 40 ms narrow by 20 ms, the margin for the two narrow ends to drift apart.
  FakeMachine machine(40ms);
  Scheduler<int, int> scheduler(machine.slots(), Policy::Dynamic, kCores);
  EXPECT_EQ(scheduler.submit(0).get(), 0);                           // the wide worker, measured
  EXPECT_EQ(scheduler.run_all({1, 2}), (std::vector<int>{10, 20}));  // both narrow ones, measured
  ASSERT_EQ(machine.ran(0), kWide);
  ASSERT_NE(machine.ran(1), machine.ran(2));

  EXPECT_EQ(scheduler.run_all({3, 4, 5}), (std::vector<int>{30, 40, 50}));
  EXPECT_NE(machine.ran(3), kWide);
  EXPECT_NE(machine.ran(4), kWide);
  EXPECT_EQ(machine.ran(5), kWide);
  EXPECT_LE(machine.most_busy_cores(), kCores);
}

TEST(SchedulerWidth, WithoutABudgetEveryWorkerTakesAndTheCoresAreOversubscribed) {
  // The same workers with no budget: the wide one pulls beside the narrow ones (the control: the
  // budget, not the widths alone, is what keeps the busy cores within the machine).
  FakeMachine machine(4ms);
  Scheduler<int, int> scheduler(machine.slots(), Policy::Dynamic);
  const auto items = items_from(0, 40);
  EXPECT_EQ(scheduler.run_all(items), times_ten(items));
  EXPECT_GE(machine.items_on(kWide), 5U);
  EXPECT_GT(machine.most_busy_cores(), kCores);
}

}  // namespace
}  // namespace onnxpool
