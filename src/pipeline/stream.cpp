#include "onnxpool/pipeline/stream.hpp"

#include <chrono>
#include <deque>
#include <exception>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "common/one_line.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/scheduling/item_error.hpp"

namespace onnxpool {
namespace {

// An item taken from the source: on its way through the pool, or already failed while being read.
struct InFlight {
  std::size_t index = 0;
  std::future<TensorSet> result{};
  std::string read_error{};  // not empty: the source could not give the item
  bool kept = false;         // an earlier run completed it
  bool ends_chunk = false;   // the last item of the feed's chunk `chunk`
  Chunk chunk{};
};

using Clock = std::chrono::steady_clock;

// Adds the seconds since `start` to `total` when it goes out of scope (however the scope is left).
class AddTime {
 public:
  explicit AddTime(double& total) : total_(total), start_(Clock::now()) {}
  AddTime(const AddTime&) = delete;
  AddTime& operator=(const AddTime&) = delete;
  ~AddTime() { total_ += std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  double& total_;
  Clock::time_point start_;
};

// When the oldest item is not done yet, waits for the one half a window after it instead (or the last
// before it that ran): the calling thread then wakes once per half window, handing on every result
// done by then, rather than once per item, whose wake-ups would cost more than a small model's run.
// The workers lose nothing: the other half of the window keeps them fed meanwhile.
void wait_for_half_a_window(std::deque<InFlight>& flight, std::size_t window, double& wait_seconds) {
  auto& oldest = flight.front().result;
  if (!oldest.valid() || oldest.wait_for(std::chrono::seconds(0)) == std::future_status::ready) return;
  std::size_t target = std::min(flight.size() - 1, window / 2);
  while (target > 0 && !flight[target].result.valid()) --target;
  const AddTime waiting(wait_seconds);
  flight[target].result.wait();
}

std::size_t default_window(const Pool& pool) {
  std::size_t batches = 0;
  for (const auto& plan : pool.plan()) batches += plan.batch;
  return 4 * batches;
}

}  // namespace

StreamSummary run_stream(Pool& pool, Source& source, Sink& sink, const StreamOptions& options) {
  const std::size_t window = options.window > 0 ? options.window : default_window(pool);
  const std::size_t count = source.size();
  const auto start = Clock::now();
  StreamSummary summary;
  std::deque<InFlight> flight;
  // The items to take: [next, chunk.end), then the feed's next chunk; without a feed, all of them.
  WorkFeed* const feed = options.feed;
  if (feed != nullptr && options.resume != nullptr) throw Error("a run fed by chunks is not also resumed");
  Chunk chunk{0, feed != nullptr ? 0 : count};
  std::size_t next = 0;
  bool fed_all = feed == nullptr;  // the feed said there is no more
  const auto more = [&] {
    if (next < chunk.end) return true;
    if (fed_all) return false;
    chunk = feed->next();
    if (chunk.end > count) {
      throw Error("the feed handed out items " + std::to_string(chunk.begin) + "-" + std::to_string(chunk.end) +
                  " of a source of " + std::to_string(count));
    }
    if (chunk.empty()) {
      fed_all = true;
      return false;
    }
    next = chunk.begin;
    return true;
  };
  std::vector<ItemFailure> chunk_failures;  // of the oldest chunk in flight
  bool taking = true;
  // The earlier failures, walked in step with the kept items (both in index order).
  std::vector<ItemFailure>::const_iterator kept_failure{};
  if (options.resume != nullptr) kept_failure = options.resume->failures.begin();
  for (;;) {
    // Read ahead up to the window: every worker has items queued while the oldest result is handed on.
    if (options.stop != nullptr && taking && options.stop->load()) {
      taking = false;
      summary.interrupted = true;
    }
    while (taking && flight.size() < window && more()) {
      InFlight item{.index = next, .ends_chunk = feed != nullptr && next + 1 == chunk.end, .chunk = chunk};
      if (options.resume != nullptr && next < options.resume->done.size() && options.resume->done[next]) {
        item.kept = true;
        flight.push_back(std::move(item));
        ++next;
        continue;
      }
      try {
        TensorSet inputs;
        {
          const AddTime reading(summary.read_seconds);
          inputs = source.read(next);
        }
        item.result = pool.submit(std::move(inputs));
      } catch (const std::exception& e) {
        item.read_error = one_line(e.what());
        if (item.read_error.empty()) item.read_error = "the item could not be read";
      }
      flight.push_back(std::move(item));
      ++next;
    }
    if (flight.empty()) break;
    wait_for_half_a_window(flight, window, summary.wait_seconds);

    InFlight item = std::move(flight.front());
    flight.pop_front();
    if (item.kept) {
      // In item order, as if it had run now: an earlier failure is still a failure of the run.
      const AddTime writing(summary.write_seconds);
      while (kept_failure != options.resume->failures.end() && kept_failure->index < item.index) ++kept_failure;
      if (kept_failure != options.resume->failures.end() && kept_failure->index == item.index) {
        sink.kept_failure(*kept_failure);
        ++summary.failed;
      } else {
        sink.kept(item.index, source.name(item.index));
      }
      ++summary.kept;
      ++summary.items;
      continue;
    }
    ItemFailure failure{.index = item.index, .name = source.name(item.index), .worker = {}, .cause = item.read_error};
    if (failure.cause.empty()) {
      try {
        TensorSet outputs;
        {
          const AddTime waiting(summary.wait_seconds);
          outputs = item.result.get();
        }
        const AddTime writing(summary.write_seconds);
        sink.write(item.index, failure.name, outputs);
      } catch (const ItemError& e) {
        failure.worker = e.worker();
        failure.cause = one_line(e.cause());
      } catch (const RejectedItem& e) {
        // The item ran, but its outputs do not fit what the sink keeps (another shape than the others').
        failure.cause = one_line(e.what());
      }
      // Any other exception is not the item's own failure but the sink's (a full disk) or the pool's
      // shutting down: it stops the run.
    }
    if (!failure.cause.empty()) {
      const AddTime writing(summary.write_seconds);
      sink.fail(failure);
      ++summary.failed;
      if (options.max_failures > 0 && summary.failed >= options.max_failures) taking = false;
      if (feed != nullptr) chunk_failures.push_back(std::move(failure));
    }
    ++summary.items;
    if (item.ends_chunk) {
      // The chunk's results are on disk before the feed hears of them (its journal will name them).
      const AddTime writing(summary.write_seconds);
      sink.sync();
      feed->complete(item.chunk, std::move(chunk_failures));
      chunk_failures.clear();
    }
  }
  if (feed != nullptr) {
    summary.stopped = !fed_all || next < chunk.end;
    if (summary.stopped) feed->leave();
  } else {
    summary.stopped = summary.items < count;
  }
  {
    const AddTime writing(summary.write_seconds);
    sink.finish();
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace onnxpool
