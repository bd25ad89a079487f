#include "onnxpool/scheduling/chunk_coordinator.hpp"

#include <algorithm>
#include <string>

#include "onnxpool/error.hpp"

namespace onnxpool {

ChunkCoordinator::ChunkCoordinator(std::size_t items, std::size_t ranks, std::size_t chunk, std::size_t min_chunk,
                                   std::span<const bool> done)
    : chunk_(chunk), min_chunk_(std::max<std::size_t>(1, min_chunk)), granted_(ranks), stats_(ranks) {
  if (ranks == 0) throw Error("a coordinator needs at least one rank");
  if (chunk == 0) throw Error("chunks must hold at least one item");
  if (!done.empty() && done.size() != items) {
    throw Error("the done list has " + std::to_string(done.size()) + " entries for " + std::to_string(items) +
                " items");
  }
  // The not-done items as ranges, so that a resumed run hands out only what is left.
  std::size_t left = 0;
  for (std::size_t i = 0; i < items;) {
    if (!done.empty() && done[i]) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    while (i < items && (done.empty() || !done[i])) ++i;
    todo_.push_back({begin, i});
    left += i - begin;
  }
  outstanding_ = left;
  fresh_ = left;
}

std::size_t ChunkCoordinator::next_size() const {
  const std::size_t guided = fresh_ / (2 * granted_.size());
  return std::clamp(guided, min_chunk_, std::max(min_chunk_, chunk_));
}

Chunk ChunkCoordinator::next(std::size_t rank) {
  const std::lock_guard lock(mutex_);
  if (rank >= granted_.size()) throw Error("no rank " + std::to_string(rank));
  if (stats_[rank].failed) return {};
  Chunk chunk;
  if (!returned_.empty()) {
    chunk = returned_.front();
    returned_.pop_front();
  } else {
    while (todo_front_ < todo_.size() && todo_[todo_front_].empty()) ++todo_front_;
    if (todo_front_ == todo_.size()) return {};
    const std::size_t size = next_size();
    Chunk& range = todo_[todo_front_];
    chunk = {range.begin, std::min(range.end, range.begin + size)};
    range.begin = chunk.end;
    fresh_ -= chunk.size();
  }
  granted_[rank].push_back(chunk);
  ++stats_[rank].chunks;
  return chunk;
}

void ChunkCoordinator::complete(std::size_t rank, Chunk chunk) {
  const std::lock_guard lock(mutex_);
  if (rank >= granted_.size()) throw Error("no rank " + std::to_string(rank));
  auto& mine = granted_[rank];
  const auto found = std::find(mine.begin(), mine.end(), chunk);
  if (found == mine.end()) {
    throw Error("rank " + std::to_string(rank) + " completed items " + std::to_string(chunk.begin) + "-" +
                std::to_string(chunk.end) + " it was not granted");
  }
  mine.erase(found);
  stats_[rank].items += chunk.size();
  outstanding_ -= chunk.size();
}

std::vector<Chunk> ChunkCoordinator::fail(std::size_t rank) {
  const std::lock_guard lock(mutex_);
  if (rank >= granted_.size()) throw Error("no rank " + std::to_string(rank));
  stats_[rank].failed = true;
  std::vector<Chunk> lost = std::move(granted_[rank]);
  granted_[rank].clear();
  returned_.insert(returned_.end(), lost.begin(), lost.end());
  return lost;
}

bool ChunkCoordinator::finished() const {
  const std::lock_guard lock(mutex_);
  return outstanding_ == 0;
}

std::size_t ChunkCoordinator::remaining() const {
  const std::lock_guard lock(mutex_);
  return outstanding_;
}

std::vector<RankStats> ChunkCoordinator::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace onnxpool
