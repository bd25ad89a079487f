#include "runtime/yielding_threads.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <exception>
#include <thread>

namespace onnxpool {
namespace {

// Lowers the calling thread to the idle policy; where that is refused, to nice 19 (the lowest priority
// without privileges), which gives way less promptly: measured on 2 cores, a woken narrow worker still
// waited up to its slice (~3 ms) behind a nice-19 spinning thread, and not at all behind an idle one.
void give_way_from_this_thread() noexcept {
  const sched_param idle{};
  if (sched_setscheduler(0, SCHED_IDLE, &idle) == 0) return;
  // A failure leaves the thread at the normal priority: slower to give way, still correct.
  static_cast<void>(setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19));
}

// ONNX Runtime owns the thread through an opaque C handle until it calls join_thread: the handle is a
// std::thread made here and deleted there.
OrtCustomThreadHandle create_thread(void* /*options*/, OrtThreadWorkerFn work, void* param) noexcept {
  try {
    auto* thread = new std::thread([work, param] {
      give_way_from_this_thread();
      work(param);
    });
    return reinterpret_cast<OrtCustomThreadHandle>(thread);
  } catch (const std::exception&) {
    return nullptr;  // ONNX Runtime reports that the thread could not be made
  }
}

void join_thread(OrtCustomThreadHandle handle) noexcept {
  auto* thread = reinterpret_cast<std::thread*>(const_cast<OrtCustomHandleType*>(handle));
  if (thread == nullptr) return;
  if (thread->joinable()) thread->join();
  delete thread;
}

}  // namespace

void give_way_intra_op_threads(Ort::SessionOptions& options) {
  options.SetCustomCreateThreadFn(create_thread);
  options.SetCustomJoinThreadFn(join_thread);
}

}  // namespace onnxpool
