#pragma once
// Rank 0's side of a run shared by several processes (issue 12): it hands out chunks of items
// (ChunkCoordinator: dynamic, guided, a leaving rank's chunks handed out again, a resumed run's done
// items never), records each completed chunk in the run's journal, and keeps the failures, so that the
// journal and the failure log are those of a single-process run of the same items.
//
// Transport-free and thread-safe: the MPI layer calls it from rank 0's service thread for the other
// ranks' messages, rank 0's own streaming run through feed(0), and tests through feed(k) from threads
// standing in for ranks.
//
// Durability: a rank reports a chunk only once its rows are synced (the streaming run syncs its sink
// first), so the journal, committed at most every `commit_seconds`, names only items that are on disk.
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "onnxpool/pipeline/journal.hpp"
#include "onnxpool/pipeline/work_feed.hpp"
#include "onnxpool/scheduling/chunk_coordinator.hpp"

namespace onnxpool {

class RunHandOut {
 public:
  struct Options {
    std::size_t chunk = 256;       // items per chunk while plenty remain (smaller towards the end)
    std::size_t max_failures = 0;  // stop handing out once this many items failed (0: never)
    double commit_seconds = 1.0;   // the journal's commits, at most this often (0: every chunk)
  };

  // `items` items for `ranks` ranks. `resumed` (may be null): what earlier runs completed, never handed
  // out, their failures part of this run's. `journal` (may be null): where completions are recorded.
  RunHandOut(std::size_t items, std::size_t ranks, const ResumeState* resumed, RunJournal* journal, Options options);

  // The next chunk for `rank`; empty when it has none left: everything is handed out, or the run stops
  // (max_failures reached).
  Chunk next(std::size_t rank);
  // `rank` completed `chunk` (durably), with these failures among its items. Throws Error for a chunk
  // it was not given; Error from the journal when it cannot be written.
  void complete(std::size_t rank, const Chunk& chunk, std::vector<ItemFailure> failures);
  // `rank` stopped early: its unfinished chunks go to whoever asks next.
  void leave(std::size_t rank);
  // Commits the journal now (at the end of the run).
  void commit();

  // A feed for a rank served in this process (rank 0's own run, tests' threads).
  std::unique_ptr<WorkFeed> feed(std::size_t rank);

  [[nodiscard]] bool finished() const;          // every item completed, in this run or earlier
  [[nodiscard]] std::size_t completed() const;  // items completed, earlier runs' included
  [[nodiscard]] std::size_t failed() const;     // of which failed
  // Every failure of the run, earlier runs' included, in index order.
  [[nodiscard]] std::vector<ItemFailure> failures() const;
  [[nodiscard]] std::vector<bool> failed_items() const;  // one flag per item

 private:
  void maybe_commit();  // under the lock

  mutable std::mutex mutex_;
  std::size_t items_;
  std::size_t ranks_;
  ChunkCoordinator coordinator_;
  RunJournal* journal_;
  Options options_;
  std::vector<ItemFailure> failures_;  // unsorted until failures()
  std::size_t completed_ = 0;
  double last_commit_ = 0.0;
};

}  // namespace onnxpool
