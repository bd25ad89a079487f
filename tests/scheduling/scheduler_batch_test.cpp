// Learnt batch sizes under real threads (WorkerSlot::learn_batch, batch_learner.hpp), with fake workers
// whose time depends on how many items they run at once: where stacking pays, the workers climb to
// large batches; where it does not, they stay at one item; a few items still spread over the workers.
// No ONNX Runtime. Built and run under ThreadSanitizer (the `scheduler_batch` label). The choices alone
// are tested from tables in batch_learner_test.cpp.
//
// The fakes sleep (a sleep needs no CPU, so a loaded machine changes their ratios little), and each
// assertion leaves a wide margin over what the learning costs (the tries of other sizes).
#include "onnxpool/scheduling/scheduler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace onnxpool {
namespace {

using IntScheduler = Scheduler<int, int>;
using IntSlot = WorkerSlot<int, int>;
using Clock = std::chrono::steady_clock;

// Batch sizes run, counted in items (how many items ran in batches of each size).
class BatchLog {
 public:
  void add(std::size_t size) {
    const std::lock_guard lock(mutex_);
    items_[size] += size;
  }
  // The share of the items that ran in batches of at least `size`.
  [[nodiscard]] double share_at_least(std::size_t size) const {
    const std::lock_guard lock(mutex_);
    std::size_t all = 0;
    std::size_t big = 0;
    for (const auto& [s, items] : items_) {
      all += items;
      if (s >= size) big += items;
    }
    return all == 0 ? 0.0 : static_cast<double>(big) / static_cast<double>(all);
  }
  [[nodiscard]] std::size_t largest() const {
    const std::lock_guard lock(mutex_);
    return items_.empty() ? 0 : items_.rbegin()->first;
  }
  void clear() {
    const std::lock_guard lock(mutex_);
    items_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::size_t, std::size_t> items_;
};

// `count` workers that learn their batch size up to 8; a batch of n items sleeps `seconds(n)`, and each
// item's result is twice its value.
std::vector<IntSlot> learning_workers(std::size_t count, BatchLog& log, std::function<double(std::size_t)> seconds) {
  std::vector<IntSlot> slots;
  for (std::size_t w = 0; w < count; ++w) {
    slots.push_back({.name = "fake#" + std::to_string(w),
                     .max_batch = 8,
                     .learn_batch = true,
                     .on_start = {},
                     .run = [&log, seconds](std::vector<int>& batch) {
                       log.add(batch.size());
                       std::this_thread::sleep_for(std::chrono::duration<double>(seconds(batch.size())));
                       std::vector<int> results;
                       for (int item : batch) results.push_back(2 * item);
                       return results;
                     }});
  }
  return slots;
}

std::vector<int> items(int count) {
  std::vector<int> values(static_cast<std::size_t>(count));
  std::iota(values.begin(), values.end(), 0);
  return values;
}

void expect_doubled(const std::vector<int>& results, int count) {
  ASSERT_EQ(results.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)], 2 * i) << "item " << i;
}

// Passes of 64 items until a batch of 8 ran (a climb waits for its tries to be paid for, and a loaded
// machine's noise may slow it: at most 40 passes, where 8 usually suffice).
void learn_to_stack(IntScheduler& scheduler, const BatchLog& log) {
  for (int pass = 0; pass < 40 && log.largest() < 8; ++pass) expect_doubled(scheduler.run_all(items(64)), 64);
}

// A model whose runs cost a fixed 0.6 ms plus 0.1 ms an item: per item 0.7 ms alone, 0.175 ms by eight.
TEST(SchedulerBatchLearning, WhereStackingPaysTheWorkersClimbToLargeBatches) {
  BatchLog log;
  IntScheduler scheduler(
      learning_workers(2, log, [](std::size_t n) { return 0.6e-3 + 0.1e-3 * static_cast<double>(n); }),
      Policy::Dynamic);
  learn_to_stack(scheduler, log);
  ASSERT_EQ(log.largest(), 8U) << "the workers never climbed to 8";
  log.clear();
  for (int pass = 0; pass < 4; ++pass) expect_doubled(scheduler.run_all(items(64)), 64);
  EXPECT_GE(log.share_at_least(4), 0.75) << "most items stacked by 4 or 8 once learnt";
  EXPECT_EQ(log.largest(), 8U);
}

// A model that runs stacked items slower each than one at a time (MobileNetV2 ran them 10% slower on 2
// cores; three times as slow here, so that a loaded machine's noise cannot pass for a gain: a late
// wake-up adds the same to every run, whatever its size, and with twice as slow, 4 busy threads on 2
// cores made 2 stacked items look faster in 2 of 15 runs).
TEST(SchedulerBatchLearning, WhereStackingDoesNotPayTheyStayAtOneItem) {
  BatchLog log;
  IntScheduler scheduler(
      learning_workers(2, log, [](std::size_t n) { return (n == 1 ? 1.0e-3 : 3.0e-3) * static_cast<double>(n); }),
      Policy::Dynamic);
  for (int pass = 0; pass < 6; ++pass) expect_doubled(scheduler.run_all(items(50)), 50);
  // The tries of size 2 (two runs each to learn, then one every kRetry batches) are the only others.
  EXPECT_LE(log.share_at_least(2), 0.15);
  EXPECT_LE(log.largest(), 2U) << "it never climbs past the size that did not pay";
}

// Once stacking has paid, a job of as many items as workers still runs one item on each, in parallel:
// stacking them on one worker would leave the other idle.
TEST(SchedulerBatchLearning, AFewItemsStillSpreadOverTheWorkers) {
  BatchLog log;
  IntScheduler scheduler(
      learning_workers(2, log, [](std::size_t n) { return 0.6e-3 + 0.1e-3 * static_cast<double>(n); }),
      Policy::Dynamic);
  learn_to_stack(scheduler, log);
  ASSERT_EQ(log.largest(), 8U) << "the workers never climbed to 8";
  log.clear();
  for (int pass = 0; pass < 20; ++pass) expect_doubled(scheduler.run_all(items(2)), 2);
  EXPECT_EQ(log.largest(), 1U) << "two items, two workers: one each";
  for (const auto& stats : scheduler.stats()) EXPECT_GT(stats.items, 0U) << stats.name << " ran nothing";
}

// Submitted items (a stream) learn the same way, and none is lost or changed.
TEST(SchedulerBatchLearning, SubmittedItemsAreStackedAndEachGetsItsResult) {
  BatchLog log;
  IntScheduler scheduler(
      learning_workers(2, log, [](std::size_t n) { return 0.6e-3 + 0.1e-3 * static_cast<double>(n); }),
      Policy::Dynamic);
  std::vector<std::future<int>> futures;
  for (int i = 0; i < 400; ++i) futures.push_back(scheduler.submit(i));
  for (int i = 0; i < 400; ++i) EXPECT_EQ(futures[static_cast<std::size_t>(i)].get(), 2 * i);
  EXPECT_GE(log.largest(), 4U) << "a deep queue of submissions is stacked too";
}

}  // namespace
}  // namespace onnxpool
