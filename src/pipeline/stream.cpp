#include "onnxpool/pipeline/stream.hpp"

#include <chrono>
#include <deque>
#include <exception>
#include <future>
#include <string>
#include <utility>

#include "onnxpool/scheduling/item_error.hpp"

namespace onnxpool {
namespace {

// An item taken from the source: on its way through the pool, or already failed while being read.
struct InFlight {
  std::size_t index = 0;
  std::future<TensorSet> result{};
  std::string read_error{};  // not empty: the source could not give the item
};

// ONNX Runtime's and the OS's messages may hold newlines; a failure is one line.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
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
  const auto start = std::chrono::steady_clock::now();
  StreamSummary summary;
  std::deque<InFlight> flight;
  std::size_t next = 0;
  bool taking = true;
  for (;;) {
    // Read ahead up to the window: every worker has items queued while the oldest result is handed on.
    if (options.stop != nullptr && taking && options.stop->load()) {
      taking = false;
      summary.interrupted = true;
    }
    while (taking && next < count && flight.size() < window) {
      InFlight item{.index = next};
      try {
        item.result = pool.submit(source.read(next));
      } catch (const std::exception& e) {
        item.read_error = one_line(e.what());
        if (item.read_error.empty()) item.read_error = "the item could not be read";
      }
      flight.push_back(std::move(item));
      ++next;
    }
    if (flight.empty()) break;

    InFlight item = std::move(flight.front());
    flight.pop_front();
    ItemFailure failure{.index = item.index, .name = source.name(item.index), .worker = {}, .cause = item.read_error};
    if (failure.cause.empty()) {
      try {
        const TensorSet outputs = item.result.get();
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
      sink.fail(failure);
      ++summary.failed;
      if (options.max_failures > 0 && summary.failed >= options.max_failures) taking = false;
    }
    ++summary.items;
  }
  summary.stopped = summary.items < count;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sink.finish();
  return summary;
}

}  // namespace onnxpool
