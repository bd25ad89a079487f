#pragma once
// Where a rank's items come from when several processes share one run (mpirun, issue 12): chunks of
// item indices handed out by one coordinator (rank 0's RunHandOut), each reported back once its results
// are durable. The streaming run takes items from a feed instead of 0..N-1 when given one
// (StreamOptions::feed); the transport (MPI messages, or plain calls for rank 0 itself and for tests
// with threads as ranks) is the feed's business.
#include <cstddef>
#include <vector>

#include "onnxpool/pipeline/sink.hpp"
#include "onnxpool/scheduling/chunk_coordinator.hpp"

namespace onnxpool {

class WorkFeed {
 public:
  WorkFeed() = default;
  WorkFeed(const WorkFeed&) = delete;
  WorkFeed& operator=(const WorkFeed&) = delete;
  virtual ~WorkFeed() = default;

  // The next chunk of items for this rank; empty when there is none left for it (the run may still be
  // going on elsewhere). May block while the coordinator answers.
  virtual Chunk next() = 0;
  // Every item of `chunk` (a chunk next() gave) reached the sink, and the sink was synced: its results
  // are on disk. `failures`: the chunk's items that failed, in index order.
  virtual void complete(const Chunk& chunk, std::vector<ItemFailure> failures) = 0;
  // This rank stops before its chunks are done (a signal): what it was given and did not complete goes
  // to the others. No call follows.
  virtual void leave() = 0;
};

}  // namespace onnxpool
