#include "runtime/yielding_threads.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <exception>
#include <thread>

namespace onnxpool {
namespace {

// The lowest priority a thread may give itself without privileges.
constexpr int kLowestPriority = 19;

// ONNX Runtime owns the thread through an opaque C handle until it calls join_thread: the handle is a
// std::thread made here and deleted there.
OrtCustomThreadHandle create_thread(void* /*options*/, OrtThreadWorkerFn work, void* param) noexcept {
  try {
    auto* thread = new std::thread([work, param] {
      // A failure leaves the thread at the normal priority: slower to give way, still correct.
      static_cast<void>(setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kLowestPriority));
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
