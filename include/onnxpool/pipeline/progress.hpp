#pragma once
// A progress report for long runs and benchmarks, on stderr: a tqdm-like bar rewritten in place when stderr is a
// terminal ("sweep  45%|#####     | 9/20 [00:04<00:05, 2.10 it/s] pool N=14"), one plain line per
// step otherwise (logs and CI keep every step, never carriage returns).
#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "onnxpool/pipeline/sink.hpp"

namespace onnxpool {

// "00:07", "1:02:03" (hours only when needed), as tqdm prints.
std::string format_clock(double seconds);

class Progress {
 public:
  // `terminal`: rewrite one line in place; otherwise print a line per step.
  Progress(std::ostream& out, std::string label, std::size_t total, bool terminal);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  // One more step done; `detail` names it ("pool N=14").
  void advance(std::string_view detail, std::size_t steps = 1);
  // Steps an earlier run did (a resumed run's kept items): counted as done, left out of the rate and
  // the ETA; nothing printed.
  void skip(std::size_t steps) {
    done_ += steps;
    skipped_ += steps;
  }
  // Prints at most once per `seconds` (0, the default: at every step), for runs of many small steps: a
  // terminal's bar still shows the last step; a log gets a line per interval and none at the end (the
  // caller's summary says how it ended).
  void set_min_interval(double seconds) { min_interval_ = seconds; }
  // Ends the bar's line (terminal mode). Called by the destructor if not before.
  void finish();

  // The text of the report after `done` steps in `elapsed` seconds (for the tests and for advance).
  [[nodiscard]] std::string render(std::size_t done, double elapsed, std::string_view detail) const;

 private:
  std::ostream& out_;
  std::string label_;
  std::size_t total_;
  bool terminal_;
  std::size_t done_ = 0;
  std::size_t skipped_ = 0;
  bool finished_ = false;
  double min_interval_ = 0.0;
  double last_printed_ = 0.0;  // seconds after start_
  std::chrono::steady_clock::time_point start_;
};

// A sink that advances a progress report by one step per item, naming how many failed so far.
class ProgressSink final : public Sink {
 public:
  explicit ProgressSink(Progress& progress) : progress_(progress) {}
  void write(std::size_t /*index*/, const std::string& /*name*/, const TensorSet& /*outputs*/) override;
  void fail(const ItemFailure& failure) override;
  void kept(std::size_t /*index*/, const std::string& /*name*/) override { progress_.skip(1); }
  void kept_failure(const ItemFailure& /*failure*/) override {
    ++failed_;
    progress_.skip(1);
  }
  void finish() override;

 private:
  Progress& progress_;
  std::size_t failed_ = 0;
};

}  // namespace onnxpool
