#pragma once
// ONNX Runtime intra-op threads that give way: a session's pool threads that run at the idle CPU
// priority (SCHED_IDLE). They still spin between runs, as a default session's do, so a lone item's next
// run finds them awake; but any other thread that needs their core (the pool's narrow workers, when a
// burst follows) takes it at once, and is placed on it as on an idle core, instead of sharing a core
// with a spinning thread for tens of milliseconds. While they have the cores to themselves (the
// adaptive pool runs its wide worker with nothing beside it) the priority costs nothing; another
// process's work on the same cores comes before theirs.
#include <onnxruntime_cxx_api.h>

namespace onnxpool {

// Makes the session created with `options` start its pool threads through ours, at the idle priority
// (nice 19 where the idle policy is refused).
void give_way_intra_op_threads(Ort::SessionOptions& options);

}  // namespace onnxpool
