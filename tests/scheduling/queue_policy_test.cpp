// The queue policies alone, driven from the test's thread as the worker loop drives them: push tasks,
// then next() for a worker that has tasks queued (so it returns at once), until every task is taken.
// Checked for 1..4 workers, several item counts and batch sizes: each task taken exactly once, by the
// worker and in the batches the policy promises. The last tests use a thread to show that next() blocks
// until a push or stop(), and that a slow dynamic worker declines while the queue still empties.
//
// Tasks are move-only, as the scheduler's are when its items are.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "onnxpool/scheduling/dynamic_queue.hpp"
#include "onnxpool/scheduling/static_queues.hpp"

namespace onnxpool::detail {
namespace {

struct TestTask {
  std::unique_ptr<std::size_t> position;  // the position it was pushed at
};
using LastBatch = QueuePolicy<TestTask>::LastBatch;

auto make_task() {
  return [](std::size_t position) { return TestTask{.position = std::make_unique<std::size_t>(position)}; };
}

std::vector<std::size_t> positions(const std::vector<TestTask>& tasks) {
  std::vector<std::size_t> result;
  for (const TestTask& task : tasks) result.push_back(*task.position);
  return result;
}

// Worker counts 1..4 by batch sizes; item counts are looped over inside each test.
class PolicyCase : public testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {
 protected:
  std::size_t workers() const { return std::get<0>(GetParam()); }
  std::size_t batch() const { return std::get<1>(GetParam()); }
  static constexpr std::size_t item_counts[] = {0, 1, 2, 7, 40, 101};
};

std::string case_name(const testing::TestParamInfo<std::tuple<std::size_t, std::size_t>>& info) {
  return std::to_string(std::get<0>(info.param)) + "workers_batch" + std::to_string(std::get<1>(info.param));
}

// ---------------------------------------------------------------------------------------------------
// Static: position k to worker k mod W, each worker's tasks in order, batches of what is queued.

class StaticQueuesCase : public PolicyCase {};
INSTANTIATE_TEST_SUITE_P(
    Workers1To4, StaticQueuesCase,
    testing::Combine(testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4}),
                     testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{8})),
    case_name);

TEST_P(StaticQueuesCase, PushAllSendsPositionKToWorkerKModWInFullBatches) {
  for (std::size_t count : item_counts) {
    SCOPED_TRACE("items " + std::to_string(count));
    StaticQueues<TestTask> queues(std::vector<std::size_t>(workers(), batch()));
    ASSERT_TRUE(queues.push_all(count, make_task()));
    std::vector<int> taken(count, 0);
    std::vector<TestTask> tasks;
    for (std::size_t w = 0; w < workers(); ++w) {
      std::size_t expected = w;  // the next position this worker should get
      while (expected < count) {
        ASSERT_TRUE(queues.next(w, LastBatch{}, tasks));
        const std::size_t share_left = (count - expected + workers() - 1) / workers();
        EXPECT_EQ(tasks.size(), std::min(batch(), share_left)) << "worker " << w;
        for (std::size_t position : positions(tasks)) {
          EXPECT_EQ(position, expected) << "worker " << w;
          ++taken.at(position);
          expected = position + workers();
        }
      }
    }
    for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(taken[i], 1) << "position " << i;
    EXPECT_TRUE(queues.stop().empty()) << "tasks left over";
    for (std::size_t w = 0; w < workers(); ++w) EXPECT_FALSE(queues.next(w, LastBatch{}, tasks));
    EXPECT_TRUE(tasks.empty());
  }
}

TEST_P(StaticQueuesCase, PushNumbersByARunningCounterAndPushAllFromZero) {
  StaticQueues<TestTask> queues(std::vector<std::size_t>(workers(), batch()));
  // Singles at positions 0..n-1 across calls; then a push_all's tasks again at 0, 1, ...
  const std::size_t singles = 2 * workers() + 1;
  for (std::size_t k = 0; k < singles; ++k) ASSERT_TRUE(queues.push(make_task()));
  ASSERT_TRUE(queues.push_all(workers(), make_task()));
  std::vector<TestTask> tasks;
  for (std::size_t w = 0; w < workers(); ++w) {
    std::vector<std::size_t> expected;
    for (std::size_t k = w; k < singles; k += workers()) expected.push_back(k);
    expected.push_back(w);  // its one task of the push_all, behind the singles
    std::vector<std::size_t> got;
    while (got.size() < expected.size()) {
      ASSERT_TRUE(queues.next(w, LastBatch{}, tasks));
      for (std::size_t position : positions(tasks)) got.push_back(position);
    }
    EXPECT_EQ(got, expected) << "worker " << w;
  }
}

TEST_P(StaticQueuesCase, StopReturnsWhatIsQueuedAndRefusesMore) {
  StaticQueues<TestTask> queues(std::vector<std::size_t>(workers(), batch()));
  constexpr std::size_t count = 23;
  ASSERT_TRUE(queues.push_all(count, make_task()));
  std::vector<TestTask> tasks;
  ASSERT_TRUE(queues.next(0, LastBatch{}, tasks));  // worker 0 holds its first batch
  const std::size_t held = tasks.size();

  const std::vector<TestTask> left = queues.stop();
  EXPECT_EQ(left.size(), count - held);
  std::vector<std::size_t> all = positions(left);
  for (std::size_t position : positions(tasks)) all.push_back(position);
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(all[i], i);

  bool made = false;
  EXPECT_FALSE(queues.push([&](std::size_t position) {
    made = true;
    return make_task()(position);
  }));
  EXPECT_FALSE(queues.push_all(3, make_task()));
  EXPECT_FALSE(made) << "a task was made after stop()";
  EXPECT_FALSE(queues.next(0, LastBatch{}, tasks));
}

// ---------------------------------------------------------------------------------------------------
// Dynamic: one queue, whoever asks takes up to its max_batch of what is queued, in queue order.

class DynamicQueueCase : public PolicyCase {
 protected:
  // Batches differ by worker: batch(), batch + 1, ...
  std::vector<std::size_t> max_batches() const {
    std::vector<std::size_t> batches;
    for (std::size_t w = 0; w < workers(); ++w) batches.push_back(batch() + w);
    return batches;
  }
};
INSTANTIATE_TEST_SUITE_P(
    Workers1To4, DynamicQueueCase,
    testing::Combine(testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4}),
                     testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{8})),
    case_name);

TEST_P(DynamicQueueCase, EachTakeIsUpToItsBatchOfWhatIsQueuedInOrder) {
  for (std::size_t count : item_counts) {
    SCOPED_TRACE("items " + std::to_string(count));
    const std::vector<std::size_t> batches = max_batches();
    DynamicQueue<TestTask> queue(batches);
    ASSERT_TRUE(queue.push_all(count, make_task()));
    std::vector<int> taken(count, 0);
    std::vector<TestTask> tasks;
    std::size_t expected = 0;
    // Workers ask in turn. No worker reports a batch (LastBatch{}), so none is measured and none
    // declines: the tail look-ahead is tail_planner_test's.
    for (std::size_t turn = 0; expected < count; ++turn) {
      const std::size_t w = turn % workers();
      ASSERT_TRUE(queue.next(w, LastBatch{}, tasks));
      EXPECT_EQ(tasks.size(), std::min(batches[w], count - expected)) << "worker " << w;
      for (std::size_t position : positions(tasks)) {
        EXPECT_EQ(position, expected) << "worker " << w;
        ++taken.at(position);
        ++expected;
      }
    }
    for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(taken[i], 1) << "position " << i;
    EXPECT_TRUE(queue.stop().empty()) << "tasks left over";
    for (std::size_t w = 0; w < workers(); ++w) EXPECT_FALSE(queue.next(w, LastBatch{}, tasks));
  }
}

TEST_P(DynamicQueueCase, SinglePushesJoinTheOneQueueInOrder) {
  DynamicQueue<TestTask> queue(max_batches());
  constexpr std::size_t count = 9;
  for (std::size_t k = 0; k < count; ++k) ASSERT_TRUE(queue.push(make_task()));
  std::vector<TestTask> tasks;
  std::vector<std::size_t> got;
  for (std::size_t turn = 0; got.size() < count; ++turn) {
    ASSERT_TRUE(queue.next(workers() - 1 - turn % workers(), LastBatch{}, tasks));
    for (std::size_t position : positions(tasks)) got.push_back(position);
  }
  for (std::size_t k = 0; k < count; ++k) EXPECT_EQ(got[k], k);
}

TEST_P(DynamicQueueCase, StopReturnsWhatIsQueuedInOrder) {
  DynamicQueue<TestTask> queue(max_batches());
  constexpr std::size_t count = 17;
  ASSERT_TRUE(queue.push_all(count, make_task()));
  std::vector<TestTask> tasks;
  ASSERT_TRUE(queue.next(0, LastBatch{}, tasks));
  const std::size_t held = tasks.size();
  const std::vector<std::size_t> left = positions(queue.stop());
  ASSERT_EQ(left.size(), count - held);
  for (std::size_t i = 0; i < left.size(); ++i) EXPECT_EQ(left[i], held + i);
  EXPECT_FALSE(queue.push(make_task()));
  EXPECT_FALSE(queue.next(0, LastBatch{}, tasks));
}

// ---------------------------------------------------------------------------------------------------
// With a thread: blocking, waking, declining.

template <class Queues>
void expect_next_blocks_until_push_then_stop() {
  Queues queues(std::vector<std::size_t>{4, 4});
  // Worker 0 waits on an empty queue; a push at position 0 (worker 0's under Static) wakes it.
  auto first = std::async(std::launch::async, [&] {
    std::vector<TestTask> tasks;
    const bool got = queues.next(0, LastBatch{}, tasks);
    return got ? positions(tasks) : std::vector<std::size_t>{};
  });
  ASSERT_TRUE(queues.push(make_task()));
  EXPECT_EQ(first.get(), std::vector<std::size_t>{0});
  // Then it waits again, and stop() ends the wait.
  auto second = std::async(std::launch::async, [&] {
    std::vector<TestTask> tasks;
    return queues.next(0, LastBatch{.items = 1, .seconds = 0.001}, tasks);
  });
  EXPECT_TRUE(queues.stop().empty());
  EXPECT_FALSE(second.get());
}

TEST(StaticQueuesThreaded, NextBlocksUntilAPushOrStop) {
  expect_next_blocks_until_push_then_stop<StaticQueues<TestTask>>();
}

TEST(DynamicQueueThreaded, NextBlocksUntilAPushOrStop) {
  expect_next_blocks_until_push_then_stop<DynamicQueue<TestTask>>();
}

TEST(DynamicQueueThreaded, ASlowWorkerDeclinesAShortQueueThatTheFastOneEmpties) {
  DynamicQueue<TestTask> queue(std::vector<std::size_t>{1, 1});
  std::vector<TestTask> tasks;
  // Two items each, one at a time, so that both are busy and report a batch at their next take: 20 s and
  // 1 s an item (the paces only matter relative to each other; nothing sleeps that long). The first of a
  // worker's runs is a warm-up that its second replaces: the slow one's pace is known from its second.
  ASSERT_TRUE(queue.push_all(4, make_task()));
  ASSERT_TRUE(queue.next(0, LastBatch{}, tasks));
  ASSERT_TRUE(queue.next(1, LastBatch{}, tasks));
  ASSERT_TRUE(queue.next(0, LastBatch{.items = 1, .seconds = 20.0}, tasks));
  ASSERT_TRUE(queue.next(1, LastBatch{.items = 1, .seconds = 1.0}, tasks));
  constexpr std::size_t count = 6;
  ASSERT_TRUE(queue.push_all(count, make_task()));

  // The fast one is measured first (it takes one of the six, busy for about 1 s), then the slow one
  // starts, learns its 20 s and looks at the five left; then the fast one runs on. Each worker on its own
  // thread until stop(), counting what it takes.
  ASSERT_TRUE(queue.next(1, LastBatch{.items = 1, .seconds = 1.0}, tasks));
  std::atomic<std::size_t> taken{tasks.size()};
  const auto run_worker = [&](std::size_t worker, double seconds_per_item) {
    std::vector<TestTask> batch;
    std::size_t took = 0;
    for (LastBatch last{.items = 1, .seconds = seconds_per_item}; queue.next(worker, last, batch);) {
      took += batch.size();
      taken += batch.size();
      last = {.items = batch.size(), .seconds = seconds_per_item * static_cast<double>(batch.size())};
    }
    return took;
  };
  auto slow = std::async(std::launch::async, run_worker, 0, 20.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // most often it declines before the fast one runs
  auto fast = std::async(std::launch::async, run_worker, 1, 1.0);
  // Once the queue is empty, stop both; bounded so that a lost item fails the test instead of hanging it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (taken.load() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(queue.stop().empty());
  // By the paces learnt, the fast one does the five left in about 6 s, and the slow one's one item would
  // take 20: each time the slow one looks, it declines (unless the machine stalls for many seconds).
  EXPECT_EQ(slow.get(), 0U);
  EXPECT_EQ(fast.get(), count - 1);
}

}  // namespace
}  // namespace onnxpool::detail
