#pragma once
// What lets a streaming run stop (a signal, a crash, kill -9, a full disk) and continue later with
// nothing lost and nothing done twice: a journal of the items whose results are durable.
//
// The file (`<output folder>/.onnxpool-journal`) is text, appended to and never rewritten:
//
//   onnxpool-journal 1
//   {"items":1000,"model":{...},"source":{...},...}        the run's identity, as the caller describes it
//   done 0-511                                              items whose results are on disk
//   fail {"index":512,"name":"...","worker":"cpu#0","cause":"..."}
//   done 513-1023
//
// Order of durability (JournaledSink): results are written to the data files, the data files are
// synced (fdatasync), and only then are their items appended to the journal, which is synced in
// turn. So an item the journal names is on disk, whatever moment the process dies; an item it does
// not name is simply run again, and its rows written again at the same offset with the same bytes.
// Commits are grouped (every `commit_seconds`, and when the run ends or stops) so that the syncs cost
// a few milliseconds a second, not one per item. A torn last line (the process died while appending)
// is dropped when the journal is read back, and cut off before anything is appended.
//
// Identity: a journal is continued only by a run of the same model, source and outputs. The caller
// gives that identity as the text of a JSON object; a resume whose identity differs is refused, naming the first field
// that differs, before any work.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/pipeline/sink.hpp"

namespace onnxpool {

// What earlier runs completed, read back from a journal: per item, done or not, and the failures
// among the done ones (in index order). Memory: one bit per item, plus the failures.
struct ResumeState {
  std::vector<bool> done;
  std::vector<ItemFailure> failures;
  [[nodiscard]] std::size_t done_count() const;
};

class RunJournal {
 public:
  static constexpr const char* kFileName = ".onnxpool-journal";

  // A new journal for `items` items at `path` (replacing any there), its identity written and synced.
  static RunJournal start(const std::filesystem::path& path, std::size_t items, std::string_view identity);
  // The journal at `path`, to continue: checks the identity (Error naming the field that differs),
  // reads what was done into `state`, and cuts off a torn last line. Error when there is none, or it
  // is not a journal, or it is damaged before its last line.
  static RunJournal resume(const std::filesystem::path& path, std::size_t items, std::string_view identity,
                           ResumeState& state);
  // Reads a journal's content (the parser of resume(), exposed for tests and fuzzing): `valid_bytes`
  // is the length of its complete lines. Throws Error (naming `source`) when it is not a journal.
  static ResumeState parse(std::string_view text, std::size_t items, std::string_view identity,
                           const std::string& source, std::size_t* valid_bytes = nullptr);

  RunJournal(RunJournal&&) noexcept;
  RunJournal& operator=(RunJournal&&) noexcept;
  RunJournal(const RunJournal&) = delete;
  RunJournal& operator=(const RunJournal&) = delete;
  ~RunJournal();

  // Item `index`'s results are written (not yet durable): recorded at the next commit.
  void done(std::size_t index);
  void failed(const ItemFailure& failure);
  // Appends what was recorded since the last commit and syncs the journal. The caller has made the
  // recorded items' data durable first. Throws Error when the journal cannot be written.
  void commit();
  // Items recorded, committed or not, by this run and by the runs it continues.
  [[nodiscard]] std::size_t accounted() const;
  [[nodiscard]] std::size_t items() const;
  // The run is complete and its results final: the journal goes.
  void remove();
  [[nodiscard]] const std::filesystem::path& path() const;

 private:
  struct State;
  explicit RunJournal(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The sink that keeps a journal of another sink's results (usually a SinkFan of the output files and
// the failure log): each result goes to `data` first, then is recorded; every `commit_seconds` (0:
// after every item), on sync() and on finish(), `data` is synced and the journal committed. finish()
// finishes `data` and, when every item is accounted for, removes the journal: the run is complete.
// Items that earlier runs completed (kept(), kept_failure()) reach `data` as such, and are not recorded
// again.
class JournaledSink final : public Sink {
 public:
  JournaledSink(Sink& data, RunJournal& journal, double commit_seconds = 1.0);
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override;
  void fail(const ItemFailure& failure) override;
  void kept(std::size_t index, const std::string& name) override;
  void kept_failure(const ItemFailure& failure) override;
  void sync() override;
  void finish() override;
  // Commits so far (each one data sync + journal sync).
  [[nodiscard]] std::size_t commits() const { return commits_; }

 private:
  void maybe_commit();
  Sink& data_;
  RunJournal& journal_;
  double commit_seconds_;
  double last_commit_ = 0.0;
  std::size_t commits_ = 0;
};

}  // namespace onnxpool
