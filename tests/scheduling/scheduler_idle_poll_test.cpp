// A worker that polls when idle (WorkerSlot::idle_poll, dynamic policy) under real threads: after a
// batch, with nothing queued and no other worker busy, its thread polls the queue for idle_poll before it
// sleeps. Asserted: that it polls (its thread takes CPU time meanwhile, where a sleeping one takes none),
// only for idle_poll, never while another worker runs a batch; that items submitted while it polls, or
// as it gives up, all come back (no wake-up lost); and that stopping the scheduler ends a poll at once.
// Built and run under ThreadSanitizer (the `scheduler_idle_poll` label).
//
// Timing: over a window of 100 ms a polling thread takes 5 ms of CPU at least (on a free core, all of
// it; sharing a core with a busy thread, about half, as it yields only for a turn), a sleeping one under
// 1 ms (none); the windows are far from the poll's end.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "onnxpool/scheduling/scheduler.hpp"

namespace onnxpool {
namespace {

using namespace std::chrono_literals;
using IntScheduler = Scheduler<int, int>;
using IntSlot = WorkerSlot<int, int>;

// The CPU clocks of the threads that ran items, per worker, as the workers report them from their runs.
class ThreadClocks {
 public:
  void note(std::size_t worker) {
    clockid_t clock{};
    ASSERT_EQ(pthread_getcpuclockid(pthread_self(), &clock), 0);
    const std::lock_guard lock(mutex_);
    clocks_.resize(std::max(clocks_.size(), worker + 1));
    clocks_[worker] = clock;
  }
  // CPU seconds the worker's thread has used so far.
  double cpu_seconds(std::size_t worker) {
    const std::lock_guard lock(mutex_);
    timespec t{};
    EXPECT_EQ(clock_gettime(clocks_.at(worker), &t), 0);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  }
  // CPU seconds the worker's thread uses over the next `window`.
  double cpu_over(std::size_t worker, std::chrono::milliseconds window) {
    const double before = cpu_seconds(worker);
    std::this_thread::sleep_for(window);
    return cpu_seconds(worker) - before;
  }

 private:
  std::mutex mutex_;
  std::vector<clockid_t> clocks_;
};

IntSlot slot(std::size_t worker, ThreadClocks& clocks, std::chrono::microseconds idle_poll,
             std::latch* hold = nullptr) {
  return {.name = "fake#" + std::to_string(worker),
          .max_batch = 1,
          .width = 0,
          .caller_may_run = false,
          .learn_batch = false,
          .warmup_runs = 1,
          .idle_poll = idle_poll,
          .on_start = {},
          .run = [&clocks, worker, hold](std::vector<int>& batch) {
            clocks.note(worker);
            // Item -1 waits for the test to let it finish: a batch running as long as the test wants.
            if (batch.front() < 0 && hold != nullptr) hold->wait();
            std::vector<int> out;
            out.reserve(batch.size());
            for (const int item : batch) out.push_back(item * 10);
            return out;
          }};
}

// A scheduler of one such worker.
std::unique_ptr<IntScheduler> lone_worker(ThreadClocks& clocks, std::chrono::microseconds idle_poll) {
  std::vector<IntSlot> slots;
  slots.push_back(slot(0, clocks, idle_poll));
  return std::make_unique<IntScheduler>(std::move(slots), Policy::Dynamic);
}

constexpr auto kWindow = 100ms;
constexpr double kPollingCpu = 0.005;  // a twentieth of the window: a polling thread on a free core takes all of it
constexpr double kSleepingCpu = 0.001;

TEST(SchedulerIdlePoll, AWorkerPollsAfterItsBatchThenSleeps) {
  ThreadClocks clocks;
  const auto scheduler = lone_worker(clocks, 400ms);
  EXPECT_EQ(scheduler->submit(1).get(), 10);
  EXPECT_GT(clocks.cpu_over(0, kWindow), kPollingCpu) << "polling, its thread runs";
  std::this_thread::sleep_for(400ms);  // past the poll's end
  EXPECT_LT(clocks.cpu_over(0, kWindow), kSleepingCpu) << "asleep once idle_poll is over";
  EXPECT_EQ(scheduler->submit(2).get(), 20) << "and woken as before";
}

TEST(SchedulerIdlePoll, AWorkerWithoutIdlePollSleepsAtOnce) {
  ThreadClocks clocks;
  const auto scheduler = lone_worker(clocks, 0us);
  EXPECT_EQ(scheduler->submit(1).get(), 10);
  EXPECT_LT(clocks.cpu_over(0, kWindow), kSleepingCpu);
}

// Polling beside a running batch would share that batch's cores: the poller sleeps instead.
TEST(SchedulerIdlePoll, NoPollingWhileAnotherWorkerRunsABatch) {
  ThreadClocks clocks;
  std::latch hold(1);
  std::vector<IntSlot> slots;
  slots.push_back(slot(0, clocks, 10s, &hold));
  slots.push_back(slot(1, clocks, 10s, &hold));
  IntScheduler scheduler(std::move(slots), Policy::Dynamic);
  // Whichever worker takes the held item first (the queue's front), the other takes the quick one.
  std::future<int> held = scheduler.submit(-1);
  std::future<int> quick = scheduler.submit(1);
  EXPECT_EQ(quick.get(), 10);
  const auto stats = scheduler.stats();
  ASSERT_EQ(stats[0].items + stats[1].items, 1U) << "the held item is still running";
  const std::size_t idle = stats[0].items == 1 ? 0 : 1;
  EXPECT_LT(clocks.cpu_over(idle, kWindow), kSleepingCpu) << "the other worker is busy: this one sleeps";
  hold.count_down();
  EXPECT_EQ(held.get(), -10);
  EXPECT_GT(clocks.cpu_over(1 - idle, kWindow), kPollingCpu) << "the held one, done with nothing else running, polls";
}

// Items submitted while the worker polls, as it stops polling, and after: none is left unrun.
TEST(SchedulerIdlePoll, ItemsSubmittedAroundThePollsEndAllComeBack) {
  ThreadClocks clocks;
  std::vector<IntSlot> slots;
  slots.push_back(slot(0, clocks, 2ms));
  slots.push_back(slot(1, clocks, 0us));
  IntScheduler scheduler(std::move(slots), Policy::Dynamic);
  for (int i = 0; i < 200; ++i) {
    // Gaps of 0 to 4 ms, around the 2 ms poll.
    std::this_thread::sleep_for(std::chrono::microseconds((i * 397) % 4000));
    std::future<int> result = scheduler.submit(i);
    ASSERT_EQ(result.wait_for(20s), std::future_status::ready) << "item " << i;
    EXPECT_EQ(result.get(), i * 10);
  }
}

TEST(SchedulerIdlePoll, StoppingEndsAPollAtOnce) {
  ThreadClocks clocks;
  const auto start = std::chrono::steady_clock::now();
  {
    const auto scheduler = lone_worker(clocks, 600s);
    EXPECT_EQ(scheduler->submit(1).get(), 10);
  }  // the worker polls for ten minutes unless stop() ends it
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
}

}  // namespace
}  // namespace onnxpool
