#include "onnxpool/pipeline/run_hand_out.hpp"

#include "onnxpool/error.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace onnxpool {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The coordinator of a run that may continue earlier ones: their done items are left out. (The
// coordinator reads plain bools; std::vector<bool> is packed.) Returned as a prvalue: it holds a mutex.
ChunkCoordinator make_coordinator(std::size_t items, std::size_t ranks, std::size_t chunk, const ResumeState* resumed) {
  chunk = std::max<std::size_t>(1, chunk);
  if (resumed == nullptr || resumed->done.empty()) return ChunkCoordinator(items, ranks, chunk);
  const auto flags = std::make_unique<bool[]>(resumed->done.size());
  std::copy(resumed->done.begin(), resumed->done.end(), flags.get());
  return ChunkCoordinator(items, ranks, chunk, 1, std::span<const bool>(flags.get(), resumed->done.size()));
}

// A feed served in this process: plain calls into the hand-out.
class LocalFeed final : public WorkFeed {
 public:
  LocalFeed(RunHandOut& hand_out, std::size_t rank) : hand_out_(hand_out), rank_(rank) {}
  Chunk next() override { return hand_out_.next(rank_); }
  void complete(const Chunk& chunk, std::vector<ItemFailure> failures) override {
    hand_out_.complete(rank_, chunk, std::move(failures));
  }
  void leave() override { hand_out_.leave(rank_); }

 private:
  RunHandOut& hand_out_;
  std::size_t rank_;
};

}  // namespace

RunHandOut::RunHandOut(std::size_t items, std::size_t ranks, const ResumeState* resumed, RunJournal* journal,
                       Options options)
    : items_(items),
      ranks_(ranks),
      coordinator_(make_coordinator(items, ranks, options.chunk, resumed)),
      journal_(journal),
      options_(options),
      last_commit_(now_seconds()) {
  if (resumed != nullptr) {
    failures_ = resumed->failures;
    completed_ = resumed->done_count();
  }
}

Chunk RunHandOut::next(std::size_t rank) {
  {
    const std::lock_guard lock(mutex_);
    // --max-failures across ranks: once reached, nobody gets more (those in flight finish).
    if (options_.max_failures > 0 && failures_.size() >= options_.max_failures) return {};
  }
  return coordinator_.next(rank);
}

void RunHandOut::complete(std::size_t rank, const Chunk& chunk, std::vector<ItemFailure> failures) {
  // A rank's report is checked before it counts: failures of items of the chunk, each once.
  std::sort(failures.begin(), failures.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  for (std::size_t k = 0; k < failures.size(); ++k) {
    const std::size_t index = failures[k].index;
    if (index < chunk.begin || index >= chunk.end || (k > 0 && failures[k - 1].index == index)) {
      throw Error("rank " + std::to_string(rank) + " reported a failure of item " + std::to_string(index) +
                  " outside its chunk " + std::to_string(chunk.begin) + "-" + std::to_string(chunk.end));
    }
  }
  coordinator_.complete(rank, chunk);  // throws for a chunk the rank was not given
  const std::lock_guard lock(mutex_);
  // Which rank's worker, when there are several: "rank 2 cpu#0" (journal and failure log alike).
  if (ranks_ > 1) {
    for (auto& f : failures) {
      if (!f.worker.empty()) f.worker = "rank " + std::to_string(rank) + " " + f.worker;
    }
  }
  if (journal_ != nullptr) {
    // The chunk's items in index order, each done or failed, as a single run would have recorded them.
    auto failure = failures.begin();
    for (std::size_t i = chunk.begin; i < chunk.end; ++i) {
      if (failure != failures.end() && failure->index == i) {
        journal_->failed(*failure);
        ++failure;
      } else {
        journal_->done(i);
      }
    }
  }
  completed_ += chunk.size();
  for (auto& f : failures) failures_.push_back(std::move(f));
  maybe_commit();
}

void RunHandOut::leave(std::size_t rank) {
  static_cast<void>(coordinator_.fail(rank));
}

void RunHandOut::maybe_commit() {
  if (journal_ == nullptr) return;
  const double now = now_seconds();
  if (options_.commit_seconds > 0.0 && now - last_commit_ < options_.commit_seconds) return;
  journal_->commit();
  last_commit_ = now;
}

void RunHandOut::commit() {
  const std::lock_guard lock(mutex_);
  if (journal_ != nullptr) journal_->commit();
  last_commit_ = now_seconds();
}

std::unique_ptr<WorkFeed> RunHandOut::feed(std::size_t rank) {
  return std::make_unique<LocalFeed>(*this, rank);
}

bool RunHandOut::finished() const {
  return coordinator_.finished();
}

std::size_t RunHandOut::completed() const {
  const std::lock_guard lock(mutex_);
  return completed_;
}

std::size_t RunHandOut::failed() const {
  const std::lock_guard lock(mutex_);
  return failures_.size();
}

std::vector<ItemFailure> RunHandOut::failures() const {
  const std::lock_guard lock(mutex_);
  std::vector<ItemFailure> sorted = failures_;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return sorted;
}

std::vector<bool> RunHandOut::failed_items() const {
  const std::lock_guard lock(mutex_);
  std::vector<bool> flags(items_, false);
  for (const auto& f : failures_) {
    if (f.index < items_) flags[f.index] = true;
  }
  return flags;
}

}  // namespace onnxpool
