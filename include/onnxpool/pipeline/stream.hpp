#pragma once
// The streaming run, the library's entry point for many items: items are read from a Source as the
// pool is ready for them, run, and handed to a Sink as they complete, with at most `window` items in
// flight, so memory stays flat however many items there are. A failing item (unreadable, refused by
// the model, failing in ONNX Runtime) costs only itself: the sink is told why, and the others go on.
//
//   RandomSource source(model, bindings, files, seed, 1'000'000);
//   PerItemNpySink outputs(dir, source.size());
//   const StreamSummary done = run_stream(pool, source, outputs, {});
//
// Order: items are submitted in index order and their results handed to the sink in index order (the
// oldest in flight is awaited while the rest run), so a sink may write each result at its offset or
// append. Everything runs on the caller's thread except the pool's workers.
#include <atomic>
#include <cstddef>

#include "onnxpool/pipeline/journal.hpp"
#include "onnxpool/pipeline/sink.hpp"
#include "onnxpool/pipeline/source.hpp"
#include "onnxpool/pipeline/work_feed.hpp"
#include "onnxpool/pool/pool.hpp"

namespace onnxpool {

struct StreamOptions {
  // Items read ahead and in flight at most; 0: four times the items the workers take at once (the
  // sum of their batches), enough to keep every worker fed while the oldest result is written.
  std::size_t window = 0;
  // Stop taking items once this many have failed (0: never stop); the ones in flight still finish.
  std::size_t max_failures = 0;
  // When it turns true (a signal, a caller's cancel), no more items are taken; those in flight finish
  // and reach the sink, which is then finished as after any early stop. Null: never.
  const std::atomic<bool>* stop = nullptr;
  // What earlier runs completed (journal.hpp): those items are not read nor run, and reach the sink in
  // their place in the order as kept() or kept_failure(). Null: a run from the start.
  const ResumeState* resume = nullptr;
  // A run shared with other processes (work_feed.hpp): the items to take come from the feed, chunk by
  // chunk, instead of 0..N-1, and each chunk is reported to it once its results reached the sink and
  // the sink was synced. Items reach the sink in the order taken (increasing within a chunk). A run
  // stopped early (a signal, max_failures) leaves the feed, its chunk in progress unreported. Not with
  // `resume`: the feed hands out only what is left.
  WorkFeed* feed = nullptr;
};

struct StreamSummary {
  std::size_t items = 0;     // items that reached the sink, as results or failures (kept ones included)
  std::size_t failed = 0;    // of which failed (in this run or, for kept ones, an earlier one)
  std::size_t kept = 0;      // of which earlier runs completed (StreamOptions::resume)
  bool stopped = false;      // the items past `items` (or the feed's rest) were not taken (max_failures, or `stop`)
  bool interrupted = false;  // `stop` turned true
  double seconds = 0.0;      // from the first read to the sink's finish
  // Where the calling thread's time went (the workers' is in Pool::stats()): reading items from the
  // source, waiting for the oldest result, and handing results to the sink (its finish included). A run
  // that spends most of `seconds` reading while the workers idle is bound by its source; one that
  // mostly waits, by the model.
  double read_seconds = 0.0;
  double wait_seconds = 0.0;
  double write_seconds = 0.0;
};

// Runs source's items through the pool into the sink and calls sink.finish(). Throws Error (and does
// not finish the sink) only for what stops the whole run: a sink that cannot keep a result.
StreamSummary run_stream(Pool& pool, Source& source, Sink& sink, const StreamOptions& options = {});

}  // namespace onnxpool
