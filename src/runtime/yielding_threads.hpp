#pragma once
// ONNX Runtime intra-op threads that give way: a session's thread pool whose threads run at the lowest
// CPU priority (nice 19). They still spin between runs, as a default session's do, so a lone item's
// next run finds them awake; but any other thread that needs their core (the pool's narrow workers,
// when a burst follows) gets it almost at once instead of sharing it with a spinning thread for tens
// of milliseconds. While they have the core to themselves (the adaptive pool runs its wide worker with
// nothing beside it) their priority costs nothing.
#include <onnxruntime_cxx_api.h>

namespace onnxpool {

// Makes the session created with `options` start its pool threads through ours, at nice 19.
void give_way_intra_op_threads(Ort::SessionOptions& options);

}  // namespace onnxpool
