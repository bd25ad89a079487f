#pragma once
// Where a streaming run's results go (stream.hpp). The run calls a sink from its own thread, item by
// item in increasing index order: write() for an item that ran, fail() for one that could not be read
// or run, then finish() once, when the run is over (all items, or stopped early). A run that throws
// does not call finish(), so nothing a sink keeps under a temporary name is made final.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "onnxpool/runtime/model.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

// What a sink throws from write() when it cannot take this one item's outputs (they do not stack with
// the others'): the item fails with this message, and the run goes on. Any other exception stops it.
class RejectedItem : public Error {
 public:
  using Error::Error;
};

// Why one item has no result.
struct ItemFailure {
  std::size_t index = 0;
  std::string name;    // the source's name for it; "" when it has none
  std::string worker;  // the worker it failed on; "" when it failed before reaching one (reading it)
  std::string cause;   // one line
};

class Sink {
 public:
  Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  virtual ~Sink() = default;

  // Item `index`'s outputs, in the model's output order. Throws Error when they cannot be kept (a full
  // disk): the run stops.
  virtual void write(std::size_t index, const std::string& name, const TensorSet& outputs) = 0;
  virtual void fail(const ItemFailure& /*failure*/) {}
  // Item `index` was completed by an earlier run that this one continues (journal.hpp): its results are
  // already where this sink keeps them (or it failed then, and comes as fail()).
  virtual void kept(std::size_t /*index*/, const std::string& /*name*/) {}
  // An item that failed in an earlier run this one continues: told as a failure unless the sink knows
  // better (its rows are zero already, it is in the journal already).
  virtual void kept_failure(const ItemFailure& failure) { fail(failure); }
  // Makes what was written so far durable: on disk, surviving a crash of the machine. Throws Error when
  // it cannot.
  virtual void sync() {}
  virtual void finish() {}
};

// Several sinks fed the same results, in order (outputs and a failure log, a comparison...).
class SinkFan final : public Sink {
 public:
  explicit SinkFan(std::vector<Sink*> sinks) : sinks_(std::move(sinks)) {}
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override;
  void fail(const ItemFailure& failure) override;
  void kept(std::size_t index, const std::string& name) override;
  void kept_failure(const ItemFailure& failure) override;
  void sync() override;
  void finish() override;

 private:
  std::vector<Sink*> sinks_;
};

// `run`'s per-item layout: each output as <output name>.npy (the name made safe for a file), in `dir`
// when the run has one item, else in a folder per item named after it (item_<index> when it has no
// name, or one that is not a plain file name, such as a path from a list). Each file is written under a temporary name
// and renamed when complete.
//
// Resuming (resume()): an item run again may find what the interrupted run left of it in its folder,
// the temporaries of a write cut short, or, for an item that fails this time, outputs written before the
// journal could name it. Both are removed, so that the folder holds what a run never stopped would.
class PerItemNpySink final : public Sink {
 public:
  PerItemNpySink(std::filesystem::path dir, std::size_t item_count);
  void resume() { resumed_ = true; }
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override;
  void fail(const ItemFailure& failure) override;

 private:
  [[nodiscard]] std::filesystem::path folder_of(std::size_t index, const std::string& name) const;
  // An interrupted run's leftovers in `folder`: temporaries, and with `outputs_too` its .npy files.
  void clear_leftovers(const std::filesystem::path& folder, bool outputs_too) const;
  std::filesystem::path dir_;
  std::size_t item_count_;
  bool resumed_ = false;
};

// `run`'s default layout: one <output name>.npy per output with every item's rows stacked along the
// first dim in item order, as numpy users load them (an item of shape [k, ...] gives k rows: [N, 1000]
// for N MobileNetV2 items; a rank-0 output gives one element per item: [N]). The first result fixes each
// file's element type and row shape; its header is written then, and each item's rows at their offset
// as it completes. A failed item's rows are zero. An item whose outputs do not stack with the first's
// is rejected (RejectedItem: it fails alone). The files live under temporary names
// (<output>.npy.partial) until finish() renames them, and only when every item was accounted for: a run
// stopped early leaves no partial file under a final name. String outputs are stacked as numpy's
// unicode ('<U n', n the longest string): their strings are spooled to <output>.npy.strings.partial as
// items complete, and the .npy is laid out from the spool at finish() (string_spool.hpp). bfloat16
// outputs cannot be stacked (numpy has no such dtype): stackable() says so before the run.
//
// Resumable (a journal beside it, journal.hpp): the .partial files are kept when the run stops early,
// sync() makes their rows durable, and a later run reopens them with resume() and writes only the rows
// of the items not yet done.
class StackedNpySink final : public Sink {
 public:
  StackedNpySink(std::filesystem::path dir, std::size_t item_count, bool resumable = false);
  ~StackedNpySink() override;
  StackedNpySink(const StackedNpySink&) = delete;
  StackedNpySink& operator=(const StackedNpySink&) = delete;
  // Reopens an earlier run's .partial files for these outputs (in the model's order), checking that each
  // is a stacked array of this run's item count. `done`: the journal's items done (one flag per item;
  // a string spool is cut where it names an item not done). `written_before`: the earlier run wrote
  // results, so the files must be there; otherwise they are made anew at the first result. Throws
  // Error naming the file.
  void resume(const std::vector<std::string>& output_names, const std::vector<bool>& done, bool written_before);
  // Several processes write these files at once, each its own items' rows (the ranks of one run under
  // mpirun, the folder on a file system they share; items go to ranks in chunks, so each page of a file
  // is mostly one rank's). The first to write an output creates its .partial file with the layout of
  // its first result, under a lock (an open-file-description lock: it holds between processes, and
  // NFS serves it); the others adopt that layout, and an item that does not stack with it is rejected
  // as in a single run. Files there already (a resumed run) are adopted as they are. finish() only
  // syncs: the run's rank 0 makes the files final (make_final) once every rank is done. Not for string
  // outputs (their width is known only at the end): Error.
  void share(const std::vector<std::string>& output_names);
  // Makes the shared files of these outputs final (synced, then renamed into place); an output no rank
  // wrote (every item failed) has no file, as in a single run. Throws Error naming the file.
  static void make_final(const std::filesystem::path& dir, const std::vector<std::string>& output_names);
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override;
  void fail(const ItemFailure& failure) override;
  void kept(std::size_t index, const std::string& name) override;
  void kept_failure(const ItemFailure& failure) override;
  void sync() override;
  void finish() override;
  // Whether every output of these element types can be stacked (no bfloat16).
  [[nodiscard]] static bool stackable(const std::vector<ElementType>& output_types);
  // The first output of `model` whose shape may differ from one item to the next, so that items'
  // outputs would not stack: one with a dim that is neither fixed nor an input's named dim (set by the
  // run's bindings), such as NonZero's count. "" when every output's shape is set by the inputs'.
  [[nodiscard]] static std::string varying_output(const ModelInfo& model);
  // False once finish() found items missing (the run stopped early) and made nothing final.
  [[nodiscard]] bool complete() const { return complete_; }
  // Where a string output's strings are spooled until finish() (numpy's '<U n' needs the longest first).
  [[nodiscard]] static std::filesystem::path spool_path(const std::filesystem::path& dir,
                                                        const std::string& output_name);
  // Where output `output_name`'s file is once complete, and where it is kept until finish().
  [[nodiscard]] static std::filesystem::path final_path(const std::filesystem::path& dir,
                                                        const std::string& output_name);
  [[nodiscard]] static std::filesystem::path partial_path(const std::filesystem::path& dir,
                                                          const std::string& output_name);

 private:
  struct File;
  void open_files(const TensorSet& first);
  // Shared mode: opens (and, given `first`, creates) every output's file under its lock. False when one
  // does not exist yet (nothing is kept open then).
  bool open_shared(const TensorSet* first);
  // The layout of the stacked .npy open in `file` (its type, shape, offsets), checked against this
  // run's item count. Throws Error naming the file.
  void read_layout(File& file) const;
  // `file`'s layout for items whose output is like `one` (one item's): its type, the stacked shape and
  // the bytes per item.
  void take_layout(File& file, const Tensor& one) const;
  // Writes that layout into `file`'s open descriptor: the header, and the whole file's size up front (the
  // rows of items not written, failed ones, read as zeros). Throws Error naming the file.
  void lay_out(File& file) const;

  std::filesystem::path dir_;
  std::size_t item_count_;
  bool resumable_;
  std::size_t accounted_ = 0;  // items written, failed or kept
  std::vector<File> files_;    // one per output, in the model's order, from the first result
  bool complete_ = true;
  bool shared_ = false;
  std::vector<std::string> output_names_;  // shared mode
};

// One JSON line per failed item ({"index":3,"name":"...","worker":"cpu#1","cause":"..."}), appended as
// failures arrive to `path`.partial, which finish() renames to `path`; no file when nothing failed. A
// resumed run is told the earlier runs' failures again (in item order), so its log is the whole run's.
class FailureLog final : public Sink {
 public:
  explicit FailureLog(std::filesystem::path path);
  ~FailureLog() override;
  FailureLog(const FailureLog&) = delete;
  FailureLog& operator=(const FailureLog&) = delete;
  void write(std::size_t /*index*/, const std::string& /*name*/, const TensorSet& /*outputs*/) override {}
  void fail(const ItemFailure& failure) override;
  void finish() override;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temporary_;
  std::ofstream out_;
};

// A file name from an output's name: ONNX names may hold '/' or ':'.
std::string file_name_for(const std::string& output_name);

}  // namespace onnxpool
