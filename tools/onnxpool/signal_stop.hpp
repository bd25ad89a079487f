#pragma once
// SIGINT, SIGTERM and SIGHUP as a request to stop cleanly: while a SignalStop lives, those signals are
// blocked in every thread started after it (the pool's workers and ONNX Runtime's threads inherit the
// mask) and a thread of its own waits for them with sigtimedwait. The first sets requested(), which the
// streaming run reads before taking each item: the items in flight finish and reach their sinks, the
// files are closed, the command exits with 128 + the signal. A second signal ends the process at once
// (the user insists). No handler runs in signal context, so nothing here is async-signal-unsafe.
#include <atomic>
#include <csignal>
#include <thread>

namespace onnxpool::cli {

class SignalStop {
 public:
  // To be made before any other thread starts. Throws Error when the mask cannot be set.
  SignalStop();
  SignalStop(const SignalStop&) = delete;
  SignalStop& operator=(const SignalStop&) = delete;
  ~SignalStop();  // stops its thread and restores the mask: a signal pending then takes its default action

  [[nodiscard]] const std::atomic<bool>& requested() const { return requested_; }
  // The signal received (SIGINT, SIGTERM, SIGHUP), or 0.
  [[nodiscard]] int signal() const { return signal_.load(); }

 private:
  void watch();

  sigset_t set_{};
  sigset_t previous_{};
  std::atomic<bool> requested_{false};
  std::atomic<int> signal_{0};
  std::atomic<bool> done_{false};
  std::jthread watcher_;  // last: started once the rest exists
};

}  // namespace onnxpool::cli
