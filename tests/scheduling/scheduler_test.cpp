// Scheduler tests with fake workers (lambdas with chosen sleep times, failing items, counters); no ONNX
// Runtime. Every property is tried at 1, 2, 3 and 4 workers and under both policies. Built and run under
// ThreadSanitizer (the `scheduler` label). The queue policies and the tail planner alone are tested
// without threads in queue_policy_test.cpp and tail_planner_test.cpp.
//
// Timing assertions only use sleeping workers (a sleep needs no CPU, so a loaded machine slows them
// little) and bounds that hold with wide margins; see the comments at each bound.
#include "onnxpool/scheduling/scheduler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#if defined(__SANITIZE_THREAD__)
// libstdc++.so is not built with ThreadSanitizer, so TSan cannot see the atomic reference count of an
// exception_ptr (eh_ptr.cc). When a worker sets a future's exception and the caller catches it, whichever
// thread drops the last reference frees the exception object; if that is the worker, TSan reports the
// free as racing with the caller's earlier reads of the exception. The count is a correct atomic, so the
// report is false; this suppresses exactly that (frames in std::__exception_ptr) and nothing else.
// See https://github.com/ex-actor/ex-actor/pull/247 for the same report and suppression.
extern "C" const char* __tsan_default_suppressions() {
  return "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
#endif

namespace onnxpool {
namespace {

using namespace std::chrono_literals;
using testing::ElementsAreArray;
using testing::HasSubstr;

using IntScheduler = Scheduler<int, int>;
using IntSlot = WorkerSlot<int, int>;
// A fake worker's body: which worker it is, and the batch.
using FakeRun = std::function<std::vector<int>(std::size_t worker, std::vector<int>& batch)>;

std::string worker_name(std::size_t worker) {
  return "fake#" + std::to_string(worker);
}

std::vector<IntSlot> make_workers(std::size_t count, std::size_t max_batch, const FakeRun& run) {
  std::vector<IntSlot> slots;
  for (std::size_t w = 0; w < count; ++w) {
    IntSlot slot;
    slot.name = worker_name(w);
    slot.max_batch = max_batch;
    slot.run = [run, w](std::vector<int>& batch) { return run(w, batch); };
    slots.push_back(std::move(slot));
  }
  return slots;
}

std::vector<int> times_ten(const std::vector<int>& batch) {
  std::vector<int> results;
  for (int item : batch) results.push_back(item * 10);
  return results;
}

std::vector<int> iota_items(std::size_t count, int first = 0) {
  std::vector<int> items(count);
  std::iota(items.begin(), items.end(), first);
  return items;
}

// A hung future cannot be recovered from (destroying the scheduler would wait on the stuck worker), so
// report and abort at once instead of waiting for the test runner's timeout.
template <class T>
T get_within(std::future<T>& future, std::chrono::seconds limit = 20s) {
  if (future.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "a future was not ready within %lld s: the scheduler hangs\n",
                 static_cast<long long>(limit.count()));
    std::abort();
  }
  return future.get();
}

// Which worker ran which batch, in the order the batches started.
class BatchLog {
 public:
  struct Entry {
    std::size_t worker;
    std::vector<int> items;
  };
  void add(std::size_t worker, const std::vector<int>& items) {
    std::lock_guard lock(mutex_);
    entries_.push_back(Entry{worker, items});
  }
  std::vector<Entry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

// How many times each item (0..n-1) was handed to a worker / ran successfully.
class ItemCounts {
 public:
  explicit ItemCounts(std::size_t count) : counts_(count) {}
  void add(int item) { counts_.at(static_cast<std::size_t>(item)).fetch_add(1); }
  int operator[](std::size_t item) const { return counts_.at(item).load(); }
  std::size_t size() const { return counts_.size(); }

 private:
  std::vector<std::atomic<int>> counts_;
};

WorkerStats total(const std::vector<WorkerStats>& stats) {
  WorkerStats sum;
  for (const WorkerStats& worker : stats) {
    sum.items += worker.items;
    sum.runs += worker.runs;
    sum.failures += worker.failures;
    sum.busy_seconds += worker.busy_seconds;
    sum.queue_seconds += worker.queue_seconds;
  }
  return sum;
}

std::size_t ceil_div(std::size_t a, std::size_t b) {
  return (a + b - 1) / b;
}

bool is_bad(int item) {
  return item % 7 == 3;
}  // 3, 10, 17, 24, ...

// A worker that throws for a batch holding a bad item and returns item * 10 otherwise.
std::vector<int> times_ten_or_throw(const std::vector<int>& batch) {
  for (int item : batch) {
    if (is_bad(item)) throw std::runtime_error("bad item " + std::to_string(item));
  }
  return times_ten(batch);
}

// ---------------------------------------------------------------------------------------------------
// Policy names and construction.

TEST(SchedulerPolicy, ParsesAndNamesBothPolicies) {
  EXPECT_EQ(parse_policy("static"), Policy::Static);
  EXPECT_EQ(parse_policy("dynamic"), Policy::Dynamic);
  EXPECT_EQ(policy_name(Policy::Static), "static");
  EXPECT_EQ(policy_name(Policy::Dynamic), "dynamic");
}

TEST(SchedulerPolicy, UnknownPolicyIsAnErrorNamingIt) {
  try {
    (void)parse_policy("fast");
    FAIL() << "parse_policy(\"fast\") did not throw";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "unknown policy 'fast' (expected static or dynamic)");
  }
  // Found by tests/fuzz/grammars_fuzz.cpp (corpus/grammars/regress-policy-newline): a newline in the name
  // made the message two lines.
  try {
    (void)parse_policy("fast\n");
    FAIL() << "parse_policy(\"fast\\n\") did not throw";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "unknown policy 'fast ' (expected static or dynamic)");
  }
}

TEST(SchedulerConstruction, EmptyWorkerListIsAnError) {
  try {
    IntScheduler scheduler({}, Policy::Dynamic);
    FAIL() << "no error for an empty worker list";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("at least one worker"));
  }
}

TEST(SchedulerConstruction, SlotWithoutRunFunctionIsAnErrorNamingIt) {
  auto slots = make_workers(3, 1, [](std::size_t, std::vector<int>& batch) { return times_ten(batch); });
  slots[1].run = nullptr;
  try {
    IntScheduler scheduler(std::move(slots), Policy::Static);
    FAIL() << "no error for a slot without run";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "worker 'fake#1' (slot 1) has no run function");
  }
}

TEST(SchedulerConstruction, MaxBatchZeroIsAnErrorNamingTheSlot) {
  auto slots = make_workers(2, 1, [](std::size_t, std::vector<int>& batch) { return times_ten(batch); });
  slots[1].max_batch = 0;
  try {
    IntScheduler scheduler(std::move(slots), Policy::Dynamic);
    FAIL() << "no error for max_batch 0";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "worker 'fake#1' (slot 1) has max_batch 0 (must be at least 1)");
  }
}

TEST(SchedulerErrors, MessagesNameItemWorkerAndCause) {
  const ItemError error(7, "cpu#1", "boom");
  EXPECT_STREQ(error.what(), "item 7 on worker cpu#1: boom");
  EXPECT_EQ(error.item(), 7U);
  EXPECT_EQ(error.worker(), "cpu#1");
  EXPECT_EQ(error.cause(), "boom");

  const RunError run_error(16, {ItemError(3, "cpu#1", "first"), ItemError(9, "cpu#0", "second")});
  EXPECT_STREQ(run_error.what(), "2 of 16 items failed; first: item 3 on worker cpu#1: first");
  ASSERT_EQ(run_error.failures().size(), 2U);
  EXPECT_EQ(run_error.failures()[1].item(), 9U);
  EXPECT_EQ(run_error.item_count(), 16U);
}

// ---------------------------------------------------------------------------------------------------
// Properties at 1..4 workers under both policies.

class SchedulerProperty : public testing::TestWithParam<std::tuple<std::size_t, Policy>> {
 protected:
  std::size_t workers() const { return std::get<0>(GetParam()); }
  Policy policy() const { return std::get<1>(GetParam()); }
  bool is_static() const { return policy() == Policy::Static; }
};

std::string property_name(const testing::TestParamInfo<std::tuple<std::size_t, Policy>>& info) {
  return std::string(policy_name(std::get<1>(info.param))) + "_" + std::to_string(std::get<0>(info.param)) + "workers";
}

std::string worker_count_name(const testing::TestParamInfo<std::size_t>& info) {
  return std::to_string(info.param) + "workers";
}

INSTANTIATE_TEST_SUITE_P(Workers1To4, SchedulerProperty,
                         testing::Combine(testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{3},
                                                          std::size_t{4}),
                                          testing::Values(Policy::Static, Policy::Dynamic)),
                         property_name);

TEST_P(SchedulerProperty, RunAllReturnsResultsInInputOrderAndRunsEachItemOnce) {
  constexpr std::size_t item_count = 101;
  ItemCounts runs(item_count);
  IntScheduler scheduler(make_workers(workers(), 1,
                                      [&](std::size_t, std::vector<int>& batch) {
                                        for (int item : batch) runs.add(item);
                                        // Uneven item times, so that items finish out of order.
                                        std::this_thread::sleep_for(std::chrono::microseconds(100 * (batch[0] % 3)));
                                        return times_ten(batch);
                                      }),
                         policy());
  EXPECT_EQ(scheduler.worker_count(), workers());
  EXPECT_EQ(scheduler.policy(), policy());

  const std::vector<int> results = scheduler.run_all(iota_items(item_count));

  ASSERT_EQ(results.size(), item_count);
  for (std::size_t i = 0; i < item_count; ++i) {
    EXPECT_EQ(results[i], static_cast<int>(i) * 10) << "item " << i;
    EXPECT_EQ(runs[i], 1) << "item " << i;
  }
  const std::vector<WorkerStats> stats = scheduler.stats();
  ASSERT_EQ(stats.size(), workers());
  for (std::size_t w = 0; w < workers(); ++w) EXPECT_EQ(stats[w].name, worker_name(w));
  EXPECT_EQ(total(stats).items, item_count);
  EXPECT_EQ(total(stats).runs, item_count);  // max_batch 1, no failures
  EXPECT_EQ(total(stats).failures, 0U);

  // Repeated calls work and number their items from 0 again.
  EXPECT_THAT(scheduler.run_all({4, 5, 6}), ElementsAreArray({40, 50, 60}));
  EXPECT_EQ(total(scheduler.stats()).items, item_count + 3);
  EXPECT_TRUE(scheduler.run_all({}).empty());
}

TEST_P(SchedulerProperty, SubmitReturnsEachItemsResult) {
  IntScheduler scheduler(
      make_workers(workers(), 2, [](std::size_t, std::vector<int>& batch) { return times_ten(batch); }), policy());
  std::vector<std::future<int>> futures;
  for (int item = 0; item < 50; ++item) futures.push_back(scheduler.submit(item));
  for (int item = 0; item < 50; ++item) EXPECT_EQ(get_within(futures[static_cast<std::size_t>(item)]), item * 10);
  EXPECT_EQ(total(scheduler.stats()).items, 50U);
}

TEST_P(SchedulerProperty, BatchesHoldAtMostMaxBatchItemsInSubmissionOrder) {
  constexpr std::size_t item_count = 50;
  constexpr std::size_t max_batch = 4;
  BatchLog log;
  IntScheduler scheduler(make_workers(workers(), max_batch,
                                      [&](std::size_t worker, std::vector<int>& batch) {
                                        log.add(worker, batch);
                                        // Results unlike the items, so a mix-up within a batch shows.
                                        std::vector<int> results;
                                        for (int item : batch) results.push_back(item * 10 + 7);
                                        return results;
                                      }),
                         policy());
  const std::vector<int> results = scheduler.run_all(iota_items(item_count));

  for (std::size_t i = 0; i < item_count; ++i) EXPECT_EQ(results[i], static_cast<int>(i) * 10 + 7);
  const auto batches = log.entries();
  std::set<int> seen;
  for (const auto& batch : batches) {
    ASSERT_GE(batch.items.size(), 1U);
    EXPECT_LE(batch.items.size(), max_batch);
    for (std::size_t k = 1; k < batch.items.size(); ++k) {
      // Submission order; under Static a worker's items are i, i+W, i+2W...; under Dynamic consecutive.
      EXPECT_EQ(batch.items[k], batch.items[k - 1] + (is_static() ? static_cast<int>(workers()) : 1));
    }
    for (int item : batch.items) EXPECT_TRUE(seen.insert(item).second) << "item " << item << " ran twice";
  }
  EXPECT_EQ(seen.size(), item_count);

  // All items were queued in one go, so every take is full except each queue's last one.
  std::size_t expected_batches = 0;
  if (is_static()) {
    for (std::size_t w = 0; w < workers(); ++w)
      expected_batches += ceil_div((item_count - w + workers() - 1) / workers(), max_batch);
  } else {
    expected_batches = ceil_div(item_count, max_batch);
  }
  EXPECT_EQ(batches.size(), expected_batches);
  EXPECT_EQ(total(scheduler.stats()).runs, expected_batches);
  EXPECT_EQ(total(scheduler.stats()).items, item_count);
}

TEST_P(SchedulerProperty, FailedItemsAreReportedAndTheOthersStillRun) {
  constexpr std::size_t item_count = 30;  // bad: 3, 10, 17, 24
  ItemCounts successes(item_count);
  IntScheduler scheduler(make_workers(workers(), 1,
                                      [&](std::size_t, std::vector<int>& batch) {
                                        auto results = times_ten_or_throw(batch);
                                        for (int item : batch) successes.add(item);
                                        return results;
                                      }),
                         policy());
  try {
    (void)scheduler.run_all(iota_items(item_count));
    FAIL() << "run_all did not throw";
  } catch (const RunError& error) {
    const auto& failures = error.failures();
    ASSERT_EQ(failures.size(), 4U);
    const std::vector<std::size_t> expected_items{3, 10, 17, 24};
    for (std::size_t f = 0; f < failures.size(); ++f) {
      const std::size_t item = expected_items[f];
      EXPECT_EQ(failures[f].item(), item);
      EXPECT_EQ(failures[f].cause(), "bad item " + std::to_string(item));
      if (is_static()) {
        EXPECT_EQ(failures[f].worker(), worker_name(item % workers()));
      }
      EXPECT_THAT(failures[f].worker(), testing::StartsWith("fake#"));
      EXPECT_EQ(failures[f].what(), "item " + std::to_string(item) + " on worker " + failures[f].worker() +
                                        ": bad item " + std::to_string(item));
    }
    EXPECT_EQ(std::string(error.what()),
              "4 of 30 items failed; first: item 3 on worker " + failures[0].worker() + ": bad item 3");
    if (is_static()) {
      EXPECT_EQ(std::string(error.what()),
                "4 of 30 items failed; first: item 3 on worker fake#" + std::to_string(3 % workers()) + ": bad item 3");
    }
  }
  for (std::size_t i = 0; i < item_count; ++i) {
    EXPECT_EQ(successes[i], is_bad(static_cast<int>(i)) ? 0 : 1) << "item " << i;
  }
  const WorkerStats sum = total(scheduler.stats());
  EXPECT_EQ(sum.items, item_count);
  EXPECT_EQ(sum.failures, 4U);
}

TEST_P(SchedulerProperty, BatchWithABadItemIsRetriedItemByItemOnTheSameWorker) {
  constexpr std::size_t item_count = 24;  // bad: 3, 10, 17
  constexpr std::size_t max_batch = 4;
  BatchLog log;
  ItemCounts successes(item_count);
  IntScheduler scheduler(make_workers(workers(), max_batch,
                                      [&](std::size_t worker, std::vector<int>& batch) {
                                        log.add(worker, batch);
                                        auto results = times_ten_or_throw(batch);
                                        for (int item : batch) successes.add(item);
                                        return results;
                                      }),
                         policy());
  std::vector<std::size_t> failed_items;
  try {
    (void)scheduler.run_all(iota_items(item_count));
    FAIL() << "run_all did not throw";
  } catch (const RunError& error) {
    for (const ItemError& failure : error.failures()) failed_items.push_back(failure.item());
  }
  EXPECT_THAT(failed_items, ElementsAreArray({3U, 10U, 17U}));
  for (std::size_t i = 0; i < item_count; ++i) {
    EXPECT_EQ(successes[i], is_bad(static_cast<int>(i)) ? 0 : 1) << "item " << i;
  }

  // Every multi-item batch holding a bad item is followed, on the same worker, by one single-item batch
  // per item, in order.
  const auto batches = log.entries();
  std::size_t failed_batches = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const auto& batch = batches[b];
    if (batch.items.size() < 2 || std::none_of(batch.items.begin(), batch.items.end(), is_bad)) continue;
    ++failed_batches;
    std::vector<int> retried;
    for (std::size_t later = b + 1; later < batches.size() && retried.size() < batch.items.size(); ++later) {
      if (batches[later].worker != batch.worker) continue;
      ASSERT_EQ(batches[later].items.size(), 1U) << "a retry holds more than one item";
      retried.push_back(batches[later].items[0]);
    }
    EXPECT_EQ(retried, batch.items);
  }
  // Items were queued in one go, so each bad item sat in a full batch (batch boundaries: see above).
  EXPECT_EQ(failed_batches, 3U);
  const WorkerStats sum = total(scheduler.stats());
  EXPECT_EQ(sum.items, item_count);
  EXPECT_EQ(sum.failures, 3U);
}

TEST_P(SchedulerProperty, SubmittedBadItemsFutureThrowsItemError) {
  IntScheduler scheduler(
      make_workers(workers(), 1, [](std::size_t, std::vector<int>& batch) { return times_ten_or_throw(batch); }),
      policy());
  std::vector<std::future<int>> futures;
  for (int item = 0; item < 12; ++item) futures.push_back(scheduler.submit(item));
  for (std::size_t k = 0; k < futures.size(); ++k) {
    const int item = static_cast<int>(k);
    if (!is_bad(item)) {
      EXPECT_EQ(get_within(futures[k]), item * 10);
      continue;
    }
    try {
      (void)get_within(futures[k]);
      FAIL() << "item " << item << " did not fail";
    } catch (const ItemError& error) {
      EXPECT_EQ(error.item(), k);
      if (is_static()) {
        EXPECT_EQ(error.worker(), worker_name(k % workers()));
      }
      EXPECT_EQ(std::string(error.what()),
                "item " + std::to_string(item) + " on worker " + error.worker() + ": bad item " + std::to_string(item));
    }
  }
}

TEST_P(SchedulerProperty, ExceptionsOfAnyTypeAreCaught) {
  IntScheduler scheduler(make_workers(workers(), 1,
                                      [](std::size_t, std::vector<int>& batch) -> std::vector<int> {
                                        if (batch[0] == 1) throw 42;
                                        if (batch[0] == 2) throw std::logic_error("logic broke");
                                        return times_ten(batch);
                                      }),
                         policy());
  try {
    (void)scheduler.run_all({0, 1, 2, 3});
    FAIL() << "run_all did not throw";
  } catch (const RunError& error) {
    ASSERT_EQ(error.failures().size(), 2U);
    EXPECT_EQ(error.failures()[0].cause(), "unknown exception");
    EXPECT_EQ(error.failures()[1].cause(), "logic broke");
    EXPECT_THAT(error.what(), testing::StartsWith("2 of 4 items failed; first: item 1 on worker fake#"));
  }
}

TEST_P(SchedulerProperty, WrongResultCountIsRetriedOrFailsTheItem) {
  // Batches of several items get no results (retried one by one, then succeed); item 7 alone gets two.
  IntScheduler scheduler(make_workers(workers(), 4,
                                      [](std::size_t, std::vector<int>& batch) -> std::vector<int> {
                                        if (batch.size() > 1) return {};
                                        if (batch[0] == 7) return {70, 71};
                                        return times_ten(batch);
                                      }),
                         policy());
  try {
    (void)scheduler.run_all(iota_items(12));
    FAIL() << "run_all did not throw";
  } catch (const RunError& error) {
    ASSERT_EQ(error.failures().size(), 1U);
    EXPECT_EQ(error.failures()[0].item(), 7U);
    EXPECT_EQ(error.failures()[0].cause(), "worker returned 2 results for 1 item");
  }
  EXPECT_THAT(scheduler.run_all({1, 2, 3, 4, 5}), ElementsAreArray({10, 20, 30, 40, 50}));
}

TEST_P(SchedulerProperty, DestructionWithWorkInFlightSetsEveryFuture) {
  constexpr int item_count = 100;
  std::atomic<int> started{0};
  auto scheduler = std::make_unique<IntScheduler>(make_workers(workers(), 2,
                                                               [&](std::size_t, std::vector<int>& batch) {
                                                                 started.fetch_add(static_cast<int>(batch.size()));
                                                                 std::this_thread::sleep_for(5ms);
                                                                 return times_ten(batch);
                                                               }),
                                                  policy());
  std::vector<std::future<int>> futures;
  for (int item = 0; item < item_count; ++item) futures.push_back(scheduler->submit(item));
  std::this_thread::sleep_for(2ms);

  // The 100 items need at least 100 / (4 workers * 2 per batch) * 5 ms = 65 ms; destruction only waits
  // for the batches in flight (5 ms). Bound it loosely to catch a hang or a drain of the whole queue.
  const auto destroy_start = std::chrono::steady_clock::now();
  scheduler.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - destroy_start, 2s);

  int values = 0;
  int cancelled = 0;
  for (int item = 0; item < item_count; ++item) {
    auto& future = futures[static_cast<std::size_t>(item)];
    ASSERT_EQ(future.wait_for(0s), std::future_status::ready) << "item " << item << " left unset";
    try {
      EXPECT_EQ(future.get(), item * 10);
      ++values;
    } catch (const ItemError& error) {
      ADD_FAILURE() << "unexpected item failure: " << error.what();
    } catch (const Error& error) {
      EXPECT_STREQ(error.what(), "cancelled: the scheduler was shut down");
      ++cancelled;
    }
    // A std::future_error (broken promise) escapes and fails the test.
  }
  EXPECT_EQ(values + cancelled, item_count);
  EXPECT_EQ(values, started.load());  // every started batch finished; nothing else ran
  EXPECT_GT(cancelled, 0);
}

TEST_P(SchedulerProperty, OnStartRunsOncePerWorkerOnItsOwnThread) {
  std::mutex mutex;
  std::vector<std::thread::id> start_threads(workers());
  std::vector<int> start_calls(workers(), 0);
  std::atomic<int> wrong_thread_runs{0};
  auto slots = make_workers(workers(), 1, [&](std::size_t worker, std::vector<int>& batch) {
    std::lock_guard lock(mutex);
    if (start_calls[worker] != 1 || start_threads[worker] != std::this_thread::get_id()) ++wrong_thread_runs;
    return times_ten(batch);
  });
  for (std::size_t w = 0; w < workers(); ++w) {
    slots[w].on_start = [&, w] {
      std::lock_guard lock(mutex);
      ++start_calls[w];
      start_threads[w] = std::this_thread::get_id();
    };
  }
  auto scheduler = std::make_unique<IntScheduler>(std::move(slots), policy());
  EXPECT_THAT(scheduler->run_all(iota_items(40)), testing::SizeIs(40));
  scheduler.reset();  // joins the threads, so every on_start has run

  EXPECT_EQ(wrong_thread_runs.load(), 0);
  std::set<std::thread::id> distinct(start_threads.begin(), start_threads.end());
  EXPECT_EQ(distinct.size(), workers());
  EXPECT_EQ(distinct.count(std::this_thread::get_id()), 0U);
  for (std::size_t w = 0; w < workers(); ++w) EXPECT_EQ(start_calls[w], 1) << "worker " << w;
}

TEST_P(SchedulerProperty, FailedOnStartFailsThatWorkersItemsWithTheReason) {
  auto slots = make_workers(workers(), 2, [](std::size_t, std::vector<int>& batch) { return times_ten(batch); });
  slots[0].on_start = [] { throw std::runtime_error("no such core"); };
  IntScheduler scheduler(std::move(slots), policy());
  constexpr std::size_t item_count = 20;
  try {
    (void)scheduler.run_all(iota_items(item_count));
    // Under Dynamic with several workers, the healthy ones may have taken every item.
    EXPECT_TRUE(!is_static() && workers() > 1) << "run_all did not throw";
  } catch (const RunError& error) {
    std::vector<std::size_t> failed_items;
    for (const ItemError& failure : error.failures()) {
      EXPECT_EQ(failure.worker(), "fake#0");
      EXPECT_EQ(failure.cause(), "on_start failed: no such core");
      failed_items.push_back(failure.item());
    }
    if (is_static()) {
      std::vector<std::size_t> expected;
      for (std::size_t i = 0; i < item_count; i += workers()) expected.push_back(i);
      EXPECT_EQ(failed_items, expected);
    }
  }
}

TEST_P(SchedulerProperty, ConcurrentSubmitAndRunAllLoseNoItem) {
  constexpr int submitters = 3;
  constexpr int per_submitter = 150;
  constexpr int per_run_all = 150;
  constexpr int run_all_callers = 2;
  constexpr int item_count = (submitters + run_all_callers) * per_submitter;
  ItemCounts runs(item_count);
  IntScheduler scheduler(make_workers(workers(), 3,
                                      [&](std::size_t, std::vector<int>& batch) {
                                        for (int item : batch) runs.add(item);
                                        return times_ten(batch);
                                      }),
                         policy());

  // Each caller owns a disjoint range of item values.
  std::vector<std::vector<std::future<int>>> submitted(submitters);
  std::vector<std::vector<int>> run_all_results(run_all_callers);
  {
    std::vector<std::jthread> callers;
    for (int s = 0; s < submitters; ++s) {
      callers.emplace_back([&, s] {
        for (int k = 0; k < per_submitter; ++k)
          submitted[static_cast<std::size_t>(s)].push_back(scheduler.submit(s * per_submitter + k));
      });
    }
    for (int r = 0; r < run_all_callers; ++r) {
      callers.emplace_back([&, r] {
        run_all_results[static_cast<std::size_t>(r)] =
            scheduler.run_all(iota_items(per_run_all, (submitters + r) * per_submitter));
      });
    }
  }  // joins the callers

  for (int s = 0; s < submitters; ++s) {
    auto& futures = submitted[static_cast<std::size_t>(s)];
    ASSERT_EQ(futures.size(), static_cast<std::size_t>(per_submitter));
    for (int k = 0; k < per_submitter; ++k) {
      EXPECT_EQ(get_within(futures[static_cast<std::size_t>(k)]), (s * per_submitter + k) * 10);
    }
  }
  for (int r = 0; r < run_all_callers; ++r) {
    const auto& results = run_all_results[static_cast<std::size_t>(r)];
    ASSERT_EQ(results.size(), static_cast<std::size_t>(per_run_all));
    for (int k = 0; k < per_run_all; ++k) {
      EXPECT_EQ(results[static_cast<std::size_t>(k)], ((submitters + r) * per_submitter + k) * 10);
    }
  }
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i], 1) << "item " << i;
  EXPECT_EQ(total(scheduler.stats()).items, static_cast<std::size_t>(item_count));
}

TEST_P(SchedulerProperty, StatsCountItemsBatchesFailuresAndBusyTimeAndReset) {
  IntScheduler scheduler(make_workers(workers(), 1,
                                      [](std::size_t, std::vector<int>& batch) {
                                        std::this_thread::sleep_for(1ms);
                                        return times_ten_or_throw(batch);
                                      }),
                         policy());
  EXPECT_THROW((void)scheduler.run_all(iota_items(20)), RunError);  // items 3, 10 and 17 fail

  // stats() may be read while items run (ThreadSanitizer checks this).
  std::vector<std::future<int>> running;
  for (int item = 7; item <= 70; item += 7) running.push_back(scheduler.submit(item));  // all good
  while (running.back().wait_for(100us) != std::future_status::ready) (void)scheduler.stats();
  for (auto& future : running) (void)get_within(future);

  const std::vector<WorkerStats> stats = scheduler.stats();
  const WorkerStats sum = total(stats);
  EXPECT_EQ(sum.items, 30U);
  EXPECT_EQ(sum.runs, 30U);
  EXPECT_EQ(sum.failures, 3U);
  EXPECT_GE(sum.busy_seconds, 30 * 0.001);  // each of the 30 runs sleeps at least 1 ms
  if (is_static()) {
    for (std::size_t w = 0; w < workers(); ++w) EXPECT_GT(stats[w].items, 0U) << "worker " << w;
  }

  scheduler.reset_stats();
  const std::vector<WorkerStats> cleared = scheduler.stats();
  ASSERT_EQ(cleared.size(), workers());
  for (std::size_t w = 0; w < workers(); ++w) {
    EXPECT_EQ(cleared[w].name, worker_name(w));
    EXPECT_EQ(cleared[w].items, 0U);
    EXPECT_EQ(cleared[w].runs, 0U);
    EXPECT_EQ(cleared[w].failures, 0U);
    EXPECT_EQ(cleared[w].busy_seconds, 0.0);
    EXPECT_EQ(cleared[w].queue_seconds, 0.0);
  }
}

// Each item's wait in the queue, from its submission to the start of the run that takes it: with the
// W workers' runs each sleeping 20 ms, and 3 W items submitted at once, the second W wait at least one
// run and the last W two: at least 3 W x 20 ms summed (what the sleeps guarantee; no upper bound).
TEST_P(SchedulerProperty, StatsSumEachItemsWaitInTheQueue) {
  IntScheduler scheduler(make_workers(workers(), 1,
                                      [](std::size_t, std::vector<int>& batch) {
                                        std::this_thread::sleep_for(20ms);
                                        return times_ten(batch);
                                      }),
                         policy());
  const auto w = static_cast<int>(workers());
  static_cast<void>(scheduler.run_all(iota_items(3 * w, 100)));
  const WorkerStats sum = total(scheduler.stats());
  EXPECT_EQ(sum.items, 3U * workers());
  EXPECT_GE(sum.queue_seconds, 3 * w * 0.020);
  EXPECT_GE(sum.busy_seconds, 3 * w * 0.020);
}

TEST_P(SchedulerProperty, MoveOnlyItemsAndResultsGoThroughRunAllSubmitAndRetry) {
  using Pointer = std::unique_ptr<int>;
  std::vector<WorkerSlot<Pointer, Pointer>> slots(workers());
  for (std::size_t w = 0; w < workers(); ++w) {
    slots[w].name = worker_name(w);
    slots[w].max_batch = 3;
    slots[w].run = [](std::vector<Pointer>& batch) {
      // A batch of several holding item 4 fails as a whole, so its items are retried one by one.
      if (batch.size() > 1 && std::any_of(batch.begin(), batch.end(), [](const Pointer& p) { return *p == 4; }))
        throw std::runtime_error("batch with 4");
      std::vector<Pointer> results;
      for (const Pointer& item : batch) results.push_back(std::make_unique<int>(*item * 10));
      return results;
    };
  }
  Scheduler<Pointer, Pointer> scheduler(std::move(slots), policy());
  constexpr int item_count = 20;
  std::vector<Pointer> items;
  for (int i = 0; i < item_count; ++i) items.push_back(std::make_unique<int>(i));

  const std::vector<Pointer> results = scheduler.run_all(std::move(items));
  ASSERT_EQ(results.size(), static_cast<std::size_t>(item_count));
  for (int i = 0; i < item_count; ++i) {
    ASSERT_NE(results[static_cast<std::size_t>(i)], nullptr) << "item " << i;
    EXPECT_EQ(*results[static_cast<std::size_t>(i)], i * 10) << "item " << i;
  }
  std::future<Pointer> future = scheduler.submit(std::make_unique<int>(7));
  EXPECT_EQ(*get_within(future), 70);
  EXPECT_EQ(total(scheduler.stats()).items, static_cast<std::size_t>(item_count) + 1);
}

// ---------------------------------------------------------------------------------------------------
// Static split at 1..4 workers: exactly round-robin, the tutorial's imgs[i::W].

class StaticSplit : public testing::TestWithParam<std::size_t> {};
INSTANTIATE_TEST_SUITE_P(Workers1To4, StaticSplit, testing::Values(1, 2, 3, 4), worker_count_name);

TEST_P(StaticSplit, RunAllGivesItemIToWorkerIModW) {
  const std::size_t workers = GetParam();
  constexpr std::size_t item_count = 43;
  std::vector<std::atomic<int>> ran_on(item_count);
  for (auto& worker : ran_on) worker = -1;
  IntScheduler scheduler(make_workers(workers, 3,
                                      [&](std::size_t worker, std::vector<int>& batch) {
                                        for (int item : batch)
                                          ran_on.at(static_cast<std::size_t>(item)) = static_cast<int>(worker);
                                        return times_ten(batch);
                                      }),
                         Policy::Static);
  // Twice: each run_all numbers its items from 0.
  for (int round = 0; round < 2; ++round) {
    (void)scheduler.run_all(iota_items(item_count));
    for (std::size_t i = 0; i < item_count; ++i) {
      EXPECT_EQ(ran_on[i].load(), static_cast<int>(i % workers)) << "item " << i << " round " << round;
    }
  }
  const auto stats = scheduler.stats();
  for (std::size_t w = 0; w < workers; ++w) {
    EXPECT_EQ(stats[w].items, 2 * ((item_count - w + workers - 1) / workers)) << "worker " << w;
  }
}

TEST_P(StaticSplit, SubmitGivesTheKthSubmissionToWorkerKModW) {
  const std::size_t workers = GetParam();
  constexpr std::size_t item_count = 37;
  std::vector<std::atomic<int>> ran_on(item_count);
  IntScheduler scheduler(make_workers(workers, 2,
                                      [&](std::size_t worker, std::vector<int>& batch) {
                                        for (int item : batch)
                                          ran_on.at(static_cast<std::size_t>(item)) = static_cast<int>(worker);
                                        return times_ten(batch);
                                      }),
                         Policy::Static);
  std::vector<std::future<int>> futures;
  for (std::size_t k = 0; k < item_count; ++k) futures.push_back(scheduler.submit(static_cast<int>(k)));
  for (auto& future : futures) (void)get_within(future);
  for (std::size_t k = 0; k < item_count; ++k)
    EXPECT_EQ(ran_on[k].load(), static_cast<int>(k % workers)) << "item " << k;
}

// ---------------------------------------------------------------------------------------------------
// Dynamic vs static with a slow worker 0 (10 ms per item) and fast ones (1 ms per item), 60 items.
//
// 10x rather than 5x apart: on an oversubscribed machine every sleep gains a wake-up latency L of a few
// ms, which shrinks the real ratio to (10 + L) / (1 + L); at 10x it stays above 2 up to L = 8 ms, at 5x
// only up to L = 3 ms (seen under ThreadSanitizer with four busy loops on two cores).
//
// Sleeping workers need no CPU, so a loaded machine mostly adds wake-up latency to each sleep. That latency
// lands inside `run`, so busy_seconds measures it: the bound on dynamic's wall time uses the ideal split
// *at the rates the workers actually ran*, which keeps it meaningful and unflaky on a busy 2-core box.
// Static's bound is a hard lower bound (a sleep never returns early), so it cannot be flaky either.

class SlowAndFastWorkers : public testing::TestWithParam<std::size_t> {
 protected:
  static constexpr std::size_t item_count = 60;
  static constexpr auto slow_item = 10ms;
  static constexpr auto fast_item = 1ms;

  std::size_t workers() const { return GetParam(); }
  // Worker 0 is slow, the others fast.
  std::vector<IntSlot> slots() const {
    return make_workers(workers(), 1, [](std::size_t worker, std::vector<int>& batch) {
      std::this_thread::sleep_for((worker == 0 ? slow_item : fast_item) * batch.size());
      return times_ten(batch);
    });
  }
  static double run_seconds(IntScheduler& scheduler) {
    const auto start = std::chrono::steady_clock::now();
    const auto results = scheduler.run_all(iota_items(item_count));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(results.size(), item_count);
    return seconds;
  }
  // All the work spread so that every worker finishes together, at the rates (items / busy seconds) the
  // workers really ran.
  static double ideal_seconds(const std::vector<WorkerStats>& stats) {
    double rate_sum = 0.0;
    for (const WorkerStats& worker : stats) {
      if (worker.busy_seconds > 0.0) rate_sum += static_cast<double>(worker.items) / worker.busy_seconds;
    }
    return static_cast<double>(item_count) / rate_sum;
  }
};
INSTANTIATE_TEST_SUITE_P(Workers2To4, SlowAndFastWorkers, testing::Values(2, 3, 4), worker_count_name);

TEST_P(SlowAndFastWorkers, DynamicMovesWorkOffTheSlowWorkerAndNearsTheIdealSplit) {
  IntScheduler dynamic(slots(), Policy::Dynamic);
  const double dynamic_wall = run_seconds(dynamic);
  const auto stats = dynamic.stats();
  ASSERT_EQ(total(stats).items, item_count);

  // Static would give the slow worker ceil(60 / W) items; dynamic nominally gives it 60 * 100 / (100 +
  // (W - 1) * 1000): 5.5, 2.9, 1.9 for W = 2, 3, 4, against 30, 20, 15. "Fewer" leaves a wide margin for
  // fast workers slowed by a loaded machine.
  const std::size_t static_share = ceil_div(item_count, workers());
  EXPECT_LT(stats[0].items, static_share) << "slow worker's items";
  if (workers() == 2) {
    // The plain fast/slow pair: nominally 54.5 vs 5.5 items; at least 2x (see the ratio note above).
    EXPECT_GE(stats[1].items, 2 * stats[0].items) << "fast vs slow worker";
  }

  // Bound: 1.5x ideal + 30 ms. Nominal ideal: 60 / 1100 s = 55 ms, 29 ms, 19 ms for W = 2, 3, 4. The
  // slow worker may still be inside its last item (10 ms) when the others finish; 0.5x ideal + 30 ms
  // covers that granularity plus thread wake-ups and scheduling noise outside `run` on a loaded machine.
  const double ideal = ideal_seconds(stats);
  EXPECT_LE(dynamic_wall, 1.5 * ideal + 0.030) << "ideal " << ideal << " s";

  // Static is bounded below by the slow worker's fixed share of items of at least 10 ms each: 300, 200,
  // 150 ms for W = 2, 3, 4, against dynamic's nominal ideal of 55, 29, 19 ms.
  IntScheduler static_split(slots(), Policy::Static);
  const double static_wall = run_seconds(static_split);
  EXPECT_EQ(static_split.stats()[0].items, static_share);
  EXPECT_GE(static_wall, static_cast<double>(static_share) * 0.010);
  EXPECT_LT(dynamic_wall, static_wall);
}

// ---------------------------------------------------------------------------------------------------
// The tail, end to end: a CPU-like worker 20x slower than a GPU-like one. A greedy pull lets the slow
// worker take an item the fast one would have done many times over before it finishes, so the whole run
// waits for it (the tutorial's CPU+GPU result). Dynamic learns each worker's pace and leaves such items
// to the fast worker. The decisions themselves (long and short queues, batching and busy workers, the
// warm-up rule) are tested from tables in tail_planner_test.cpp, without threads or sleeps; these two
// are the smoke check that the dynamic queue acts on them and wakes the worker it leaves items to.
// Asserted on item counts, not times: the decisions only need the 20x gap to survive a loaded machine (a
// slept 1 ms may take 3, never 20).

std::vector<IntSlot> slow_and_fast(std::chrono::milliseconds slow_item, std::size_t fast_batch,
                                   std::chrono::microseconds fast_run) {
  std::vector<IntSlot> slots(2);
  slots[0].name = "slow";
  slots[0].run = [slow_item](std::vector<int>& batch) {
    std::this_thread::sleep_for(slow_item * batch.size());
    return times_ten(batch);
  };
  slots[1].name = "fast";
  slots[1].max_batch = fast_batch;
  slots[1].run = [fast_run](std::vector<int>& batch) {
    std::this_thread::sleep_for(fast_run);  // a GPU-like run: the same time for 1 or fast_batch items
    return times_ten(batch);
  };
  return slots;
}

void expect_times_ten(const std::vector<int>& results, std::size_t count) {
  ASSERT_EQ(results.size(), count);
  for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(results[i], static_cast<int>(i) * 10) << "item " << i;
}

TEST(DynamicTail, SlowWorkerLeavesAShortQueueToTheFastOne) {
  IntScheduler scheduler(slow_and_fast(20ms, 1, 1000us), Policy::Dynamic);
  expect_times_ten(scheduler.run_all(iota_items(30)), 30);  // both measured (the slow one took >= 1 item)
  EXPECT_GE(scheduler.stats()[0].items, 1U);
  for (int round = 0; round < 3; ++round) {
    scheduler.reset_stats();
    // The fast worker needs ~6 ms for all six; the slow one's first item alone takes 20 ms.
    expect_times_ten(scheduler.run_all(iota_items(6)), 6);
    const auto stats = scheduler.stats();
    EXPECT_EQ(stats[0].items, 0U) << "round " << round;
    EXPECT_EQ(stats[1].items, 6U) << "round " << round;
  }
}

TEST(DynamicTail, SubmittedItemsAllCompleteWithASlowWorkerDeclining) {
  // One item at a time through submit(): the slow worker declines, the fast one must still be woken.
  IntScheduler scheduler(slow_and_fast(20ms, 1, 500us), Policy::Dynamic);
  expect_times_ten(scheduler.run_all(iota_items(30)), 30);
  for (int k = 0; k < 20; ++k) {
    auto future = scheduler.submit(k);
    EXPECT_EQ(get_within(future), k * 10);
  }
}

}  // namespace
}  // namespace onnxpool
