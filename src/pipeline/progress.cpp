#include "onnxpool/pipeline/progress.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace onnxpool {

std::string format_clock(double seconds) {
  const auto total = static_cast<long long>(std::max(0.0, std::round(seconds)));
  const long long h = total / 3600;
  const long long m = total / 60 % 60;
  const long long s = total % 60;
  return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{:02}:{:02}", m, s);
}

Progress::Progress(std::ostream& out, std::string label, std::size_t total, bool terminal)
    : out_(out),
      label_(std::move(label)),
      total_(total),
      terminal_(terminal),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  finish();
}

std::string Progress::render(std::size_t done, double elapsed, std::string_view detail) const {
  // The rate of this run's own steps: those an earlier run did (skip()) took no time here.
  const std::size_t own = done - std::min(skipped_, done);
  const double rate = elapsed > 0.0 ? static_cast<double>(own) / elapsed : 0.0;
  const double eta = rate > 0.0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : 0.0;
  const std::string counts = fmt::format("{}/{} [{}<{}, {:.2f} it/s]", done, total_, format_clock(elapsed),
                                         rate > 0.0 ? format_clock(eta) : std::string("?"), rate);
  const std::string tail = detail.empty() ? std::string() : fmt::format(" {}", detail);
  if (!terminal_) return fmt::format("{}: {}{}", label_, counts, tail);
  constexpr std::size_t width = 24;
  const double fraction = total_ == 0 ? 1.0 : static_cast<double>(std::min(done, total_)) / static_cast<double>(total_);
  const auto filled = static_cast<std::size_t>(fraction * width);
  return fmt::format("{} {:3.0f}%|{}{}| {}{}", label_, fraction * 100.0, std::string(filled, '#'),
                     std::string(width - filled, ' '), counts, tail);
}

void Progress::advance(std::string_view detail, std::size_t steps) {
  done_ += steps;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (min_interval_ > 0.0) {
    const bool due = elapsed - last_printed_ >= min_interval_;
    const bool last_step = terminal_ && done_ >= total_;
    if (!due && !last_step) return;
    last_printed_ = elapsed;
  }
  const std::string text = render(done_, elapsed, detail);
  if (terminal_) {
    // \r and clear-to-end: the detail shrinks and grows.
    out_ << '\r' << text << "\x1b[K" << std::flush;
  } else {
    out_ << text << '\n' << std::flush;
  }
}

void ProgressSink::write(std::size_t /*index*/, const std::string& /*name*/, const TensorSet& /*outputs*/) {
  progress_.advance(failed_ > 0 ? fmt::format("{} failed", failed_) : std::string());
}

void ProgressSink::fail(const ItemFailure& /*failure*/) {
  ++failed_;
  progress_.advance(fmt::format("{} failed", failed_));
}

void ProgressSink::finish() {
  progress_.finish();
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_ && done_ > 0) out_ << '\n' << std::flush;
}

}  // namespace onnxpool
