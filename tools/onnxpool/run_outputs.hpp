#pragma once
// What `run --output DIR` writes: the outputs (stacked, or a folder per item), the failure log,
// --top-k's ranking, and the journal that lets the run be resumed (pipeline/journal.hpp). Made in two
// steps around the pool's start: everything that can refuse the run is checked before any work, and the
// journal of a new run is made only once the pool has started (a pool that cannot start leaves no run
// to resume).
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "onnxpool/pipeline/journal.hpp"
#include "onnxpool/pipeline/run_hand_out.hpp"
#include "onnxpool/pipeline/shard.hpp"
#include "onnxpool/pipeline/sink.hpp"
#include "onnxpool/pipeline/source.hpp"
#include "onnxpool/pipeline/top_k.hpp"
#include "onnxpool/runtime/model.hpp"

namespace onnxpool::cli {

// Fails now, before any work, when the output folder cannot be made or written, or holds files (another
// run's, or anything else) unless `overwrite`: outputs of two runs must not mix, and nothing is ever
// deleted here. `resumable`: the command has --resume, which the refusal of an unfinished run names.
void prepare_output_dir(const std::filesystem::path& dir, bool overwrite, bool resumable = true);

class RunOutputs {
 public:
  struct Options {
    std::filesystem::path dir;
    bool overwrite = false;
    bool resume = false;
    bool per_item = false;
    std::size_t top_k = 0;  // 0: no ranking
    std::string labels;
    // Several processes write the folder (the ranks of a run under mpirun; this object is rank 0's):
    // open_shared() and finish_shared() instead of open().
    bool shared = false;
    // Run one shard (shard.hpp) of a run of `whole_items`, the source holding the shard's items: the
    // indices shown (failures.jsonl, per-item folders, top_k.csv) are the whole run's, the journal's
    // identity names the shard, and a completed shard writes its manifest.
    std::optional<ShardSpec> shard;
    std::size_t whole_items = 0;
  };

  // Before the pool starts: the folder checked (refused when it holds files, unless overwrite or
  // resume), the layout chosen (stacked unless per_item, or an output that cannot stack: a note on
  // stderr then), --top-k's options checked, and with resume the earlier run's journal read, which must
  // be of the run `identity(stacked)` describes (the whole run's; a shard's journal adds the shard).
  // Throws Error naming the flag at fault.
  RunOutputs(Options options, const ModelInfo& model, const Source& source,
             const std::function<std::string(bool stacked)>& identity);
  RunOutputs(const RunOutputs&) = delete;
  RunOutputs& operator=(const RunOutputs&) = delete;

  // Once the pool has started: a new run's journal and the sinks. Returns the sink that takes every
  // result first (its outputs are on disk before the journal names them).
  Sink& open();

  // Shared (rank 0), once every rank's pool has started: the journal of a new run made, and what an
  // earlier run left that cannot be continued (the .partial files of a run started anew, or of one that
  // wrote nothing) removed, before any rank writes. Returns the journal.
  RunJournal& open_shared();
  // Shared (rank 0), once every rank is done: when `hand_out` has every item completed, the stacked
  // files made final, the failure log written (every failure, in index order), --top-k's ranking made,
  // and the journal removed; true then. Otherwise (a rank stopped early) the folder stays resumable.
  bool finish_shared(const RunHandOut& hand_out);
  // One rank's own results (any rank of a shared run): the shared stacked files (StackedNpySink::share)
  // or the item folders, for `items` items; `resume`: the run continues an earlier one.
  static std::unique_ptr<Sink> rank_sink(const std::filesystem::path& dir, const ModelInfo& model, std::size_t items,
                                         bool stacked, bool resume);
  // Whether the outputs of `model` are stacked (not --per-item, no bfloat16, no output whose shape
  // varies between items), as every rank decides it alike.
  static bool stacks(const ModelInfo& model, bool per_item);
  [[nodiscard]] bool stacked() const { return stacked_; }

  // What an earlier run completed (resume), for StreamOptions::resume; null for a new run.
  [[nodiscard]] const ResumeState* resumed() const { return options_.resume ? &resumed_ : nullptr; }
  [[nodiscard]] std::filesystem::path failure_log() const { return options_.dir / "failures.jsonl"; }

 private:
  // A resumed run whose journal names results (not only failures): the stacked files hold rows.
  [[nodiscard]] bool earlier_results() const {
    return options_.resume && resumed_.done_count() > resumed_.failures.size();
  }

  Options options_;
  const ModelInfo& model_;
  const Source& source_;
  bool stacked_ = true;
  std::string identity_;
  std::optional<TopKOptions> top_k_;
  ResumeState resumed_;
  std::optional<RunJournal> journal_;
  std::optional<StackedNpySink> stacked_sink_;
  std::optional<PerItemNpySink> per_item_sink_;
  std::optional<FailureLog> failure_sink_;
  std::optional<TopKSink> ranking_;
  std::optional<SinkFan> files_;
  std::optional<JournaledSink> journaled_;
  // The whole run's indices for the sinks that show them (first_item_: 0 unless a shard), and a shard's
  // manifest.
  std::size_t first_item_ = 0;
  std::optional<IndexOffsetSink> per_item_shown_;
  std::optional<IndexOffsetSink> failures_shown_;
  std::optional<ShardManifest> manifest_;
  std::optional<ShardManifestSink> manifest_sink_;
};

}  // namespace onnxpool::cli
