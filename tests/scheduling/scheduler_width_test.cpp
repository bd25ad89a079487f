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
#include <array>
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
  explicit FakeMachine(std::chrono::microseconds base) : base_(base) {}

  // Two single-core workers and one as wide as the machine, as the automatic pool of 2 cores;
  // `guests`: a run_all() caller may run as any of them (as the Pool's adaptive workers).
  std::vector<WorkerSlot<int, int>> slots(bool guests = false) {
    std::vector<WorkerSlot<int, int>> slots;
    for (const std::size_t width : {std::size_t{1}, std::size_t{1}, kCores}) {
      const std::size_t w = slots.size();
      slots.push_back({.name = "fake#" + std::to_string(w),
                       .max_batch = 1,
                       .width = width,
                       .caller_may_run = guests,
                       .on_start = {},
                       .run = [this, w, width](std::vector<int>& batch) { return run(w, width, batch); }});
    }
    return slots;
  }

  // The thread that ran item `item`.
  std::thread::id thread_of(int item) {
    const std::lock_guard lock(mutex_);
    return threads_.at(static_cast<std::size_t>(item));
  }
  // The most batches that ever ran at once on one worker (its own thread and a guest): must stay 1.
  [[nodiscard]] int most_at_once_on_a_worker() const { return most_at_once_.load(); }

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
    const int at_once = ++on_worker_[worker];
    int seen_at_once = most_at_once_.load();
    while (at_once > seen_at_once && !most_at_once_.compare_exchange_weak(seen_at_once, at_once)) {
    }
    const std::size_t busy = busy_ += width;
    std::size_t seen = most_busy_.load();
    while (busy > seen && !most_busy_.compare_exchange_weak(seen, busy)) {
    }
    // An item takes base / width, twice that when the cores are oversubscribed.
    std::this_thread::sleep_for(base_ / width * (busy > kCores ? 2 : 1));
    busy_ -= width;
    --on_worker_[worker];
    {
      const std::lock_guard lock(mutex_);
      for (const int item : batch) {
        const auto index = static_cast<std::size_t>(item);
        if (ran_by_.size() <= index) {
          ran_by_.resize(index + 1, 99);
          threads_.resize(index + 1);
        }
        ran_by_[index] = worker;
        threads_[index] = std::this_thread::get_id();
      }
    }
    std::vector<int> results;
    for (const int item : batch) results.push_back(item * 10);
    return results;
  }

  std::chrono::microseconds base_;  // an item's time on one core
  std::atomic<std::size_t> busy_{0};
  std::atomic<std::size_t> most_busy_{0};
  std::array<std::atomic<int>, 3> on_worker_{};
  std::atomic<int> most_at_once_{0};
  std::mutex mutex_;
  std::vector<std::size_t> ran_by_;
  std::vector<std::thread::id> threads_;
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
  // Narrow 100 ms an item, wide 50 ms. Once both have been measured, 3 items run as two narrow ones,
  // then the third wide: the first narrow worker to end sees its peer due within a few ms, and 50 ms
  // wide beats 100 ms narrow by 50 ms, the margin for the two narrow ends to drift apart on a loaded
  // machine (ThreadSanitizer, ctest -j2).
  FakeMachine machine(100ms);
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

// Guests: a run_all() caller runs the items the policy gives it on its own thread, as an idle worker's
// guest; submit() never does (its caller does not wait).
TEST(SchedulerWidth, ALoneItemOfRunAllRunsOnTheCallersThreadAsTheWideWorker) {
  FakeMachine machine(2ms);
  Scheduler<int, int> scheduler(machine.slots(/*guests=*/true), Policy::Dynamic, kCores);
  for (int item = 0; item < 6; ++item) {
    EXPECT_EQ(scheduler.run_all({item}), std::vector<int>{item * 10});
    EXPECT_EQ(machine.ran(item), kWide) << "item " << item;
    EXPECT_EQ(machine.thread_of(item), std::this_thread::get_id()) << "item " << item;
  }
  EXPECT_EQ(scheduler.stats()[kWide].items, 6U) << "a guest's items count as the worker's";
  EXPECT_EQ(scheduler.submit(6).get(), 60);
  EXPECT_NE(machine.thread_of(6), std::this_thread::get_id()) << "submit() hands the item to a worker";
}

TEST(SchedulerWidth, ACallerKeepsAJobOfAFewMillisecondsOnTheWideWorkerAndLeavesALongerOne) {
  // Narrow 0.2 ms an item, wide 0.1 ms (a sleep of 0.1 ms takes 0.15-0.5 ms); only the wide worker may
  // host the caller, as in the Pool.
  FakeMachine machine(200us);
  auto slots = machine.slots();
  slots[kWide].caller_may_run = true;
  Scheduler<int, int> scheduler(std::move(slots), Policy::Dynamic, kCores);
  // Lone items measure the wide worker; several, so that one preempted run does not set its pace.
  for (int item = 0; item < 5; ++item) EXPECT_EQ(scheduler.run_all({item}), std::vector<int>{item * 10});
  // 2 items of well under 1 ms are within WidthPlanner::kGuestGrain (2 ms): the caller runs both, wide.
  EXPECT_EQ(scheduler.run_all({5, 6}), (std::vector<int>{50, 60}));
  for (int item = 0; item < 7; ++item) {
    EXPECT_EQ(machine.ran(item), kWide) << "item " << item;
    EXPECT_EQ(machine.thread_of(item), std::this_thread::get_id()) << "item " << item;
  }
  // 100 items are not: the narrow workers' threads take them (the wide one may take the last).
  const auto items = items_from(7, 100);
  EXPECT_EQ(scheduler.run_all(items), times_ten(items));
  std::size_t wide = 0;
  for (int item = 7; item < 107; ++item) wide += machine.ran(item) == kWide ? 1 : 0;
  EXPECT_LE(wide, 2U);
  EXPECT_LE(machine.most_busy_cores(), kCores);
}

TEST(SchedulerWidth, WithoutCallerMayRunTheCallerOnlyWaits) {
  FakeMachine machine(2ms);
  Scheduler<int, int> scheduler(machine.slots(/*guests=*/false), Policy::Dynamic, kCores);
  EXPECT_EQ(scheduler.run_all({0, 1, 2}), (std::vector<int>{0, 10, 20}));
  for (int item = 0; item < 3; ++item) EXPECT_NE(machine.thread_of(item), std::this_thread::get_id());
}

TEST(SchedulerWidth, ABurstIsSharedBetweenTheCallerAndTheWorkersAndNoWorkerRunsTwiceAtOnce) {
  FakeMachine machine(1ms);
  Scheduler<int, int> scheduler(machine.slots(/*guests=*/true), Policy::Dynamic, kCores);
  // Three callers at once, each run_all of its own items, beside a stream of submits.
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 4; ++round) {
        const auto items = items_from(1000 * c + 100 * round, 8);
        if (scheduler.run_all(items) != times_ten(items)) ++wrong;
      }
    });
  }
  std::vector<std::future<int>> submitted;
  for (int item = 5000; item < 5030; ++item) submitted.push_back(scheduler.submit(item));
  for (auto& caller : callers) caller.join();
  for (std::size_t i = 0; i < submitted.size(); ++i) EXPECT_EQ(submitted[i].get(), static_cast<int>(5000 + i) * 10);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(machine.most_at_once_on_a_worker(), 1) << "a guest and a worker's own thread ran one worker at once";
  EXPECT_LE(machine.most_busy_cores(), kCores);
  std::size_t total = 0;
  for (const auto& stats : scheduler.stats()) total += stats.items;
  EXPECT_EQ(total, 3U * 4U * 8U + 30U);
}

}  // namespace
}  // namespace onnxpool
