#pragma once
// The hand-out of one dataset's items to several ranks (processes, nodes) in chunks, as rank 0 does it
// under MPI (issue 12): dynamic, so a rank with a GPU or a faster node asks more often and takes more;
// only item ranges travel, each rank reads its items from the shared source itself. A rank reports
// each chunk it completed (its rows written); a rank that fails gives its unfinished chunks back to be
// handed out again. Items already done (a resumed run) are never handed out.
//
// No MPI and no ONNX Runtime here: the MPI layer calls it from rank 0 for every request it receives,
// and tests drive it with threads standing in for ranks. Thread-safe (one mutex: a grant is a few
// hundred nanoseconds, far below what even a thousand ranks ask for).
//
// Chunk size: `chunk` items while plenty remain; near the end, the remaining items divided by twice
// the ranks (at least `min_chunk`), so that the last chunks are small and no rank is left holding a
// long one while the others idle (guided self-scheduling).
#include <cstddef>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

namespace onnxpool {

struct Chunk {
  std::size_t begin = 0;
  std::size_t end = 0;  // exclusive
  [[nodiscard]] std::size_t size() const { return end - begin; }
  [[nodiscard]] bool empty() const { return end <= begin; }
  friend bool operator==(const Chunk&, const Chunk&) = default;
};

struct RankStats {
  std::size_t chunks = 0;  // granted
  std::size_t items = 0;   // completed
  bool failed = false;
};

class ChunkCoordinator {
 public:
  // `items` items for `ranks` ranks; `done` (empty, or one flag per item) marks those already done.
  // Throws Error for 0 ranks, a chunk of 0, or a done list of another length.
  ChunkCoordinator(std::size_t items, std::size_t ranks, std::size_t chunk, std::size_t min_chunk = 1,
                   std::span<const bool> done = {});

  // The next chunk for `rank`: a returned (failed rank's) one first, else fresh items. Empty when none
  // is left to hand out (the rank is done, though others may still be working). A failed rank gets
  // nothing. Throws Error for a rank out of range.
  Chunk next(std::size_t rank);
  // `rank` has written every item of `chunk` (a chunk it was granted). Throws Error otherwise.
  void complete(std::size_t rank, Chunk chunk);
  // `rank` is gone: its granted, uncompleted chunks are handed out again to the others. Returns them.
  std::vector<Chunk> fail(std::size_t rank);

  [[nodiscard]] bool finished() const;          // every item completed (or done before)
  [[nodiscard]] std::size_t remaining() const;  // items not completed
  [[nodiscard]] std::vector<RankStats> stats() const;

 private:
  [[nodiscard]] std::size_t next_size() const;  // under the lock

  mutable std::mutex mutex_;
  std::size_t chunk_;
  std::size_t min_chunk_;
  std::vector<Chunk> todo_;                  // fresh ranges of not-done items, in order (consumed from the front)
  std::size_t todo_front_ = 0;               // index of the first range not exhausted
  std::size_t fresh_ = 0;                    // items left in todo_: a grant costs O(1) however scattered they are
  std::deque<Chunk> returned_;               // a failed rank's chunks, handed out first
  std::vector<std::vector<Chunk>> granted_;  // per rank: granted, not completed
  std::vector<RankStats> stats_;
  std::size_t outstanding_;  // items not completed
};

}  // namespace onnxpool
