#include "signal_stop.hpp"

#include <pthread.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "onnxpool/error.hpp"

namespace onnxpool::cli {

SignalStop::SignalStop() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  if (const int error = pthread_sigmask(SIG_BLOCK, &set_, &previous_); error != 0) {
    throw Error(fmt::format("cannot block SIGINT and SIGTERM: {}", std::strerror(error)));
  }
  watcher_ = std::jthread([this] { watch(); });
}

SignalStop::~SignalStop() {
  done_ = true;
  if (watcher_.joinable()) watcher_.join();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

void SignalStop::watch() {
  // Waits in slices so that the destructor's done_ is seen within a tenth of a second.
  const timespec slice{.tv_sec = 0, .tv_nsec = 100'000'000};
  while (!done_) {
    const int received = sigtimedwait(&set_, nullptr, &slice);
    if (received <= 0) continue;                 // timeout (EAGAIN) or EINTR
    if (requested_) std::_Exit(128 + received);  // a second signal: stop now
    signal_ = received;
    requested_ = true;
  }
}

}  // namespace onnxpool::cli
