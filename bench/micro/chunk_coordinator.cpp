// Issue 12's coordinator capacity: how many chunk grants (next + complete) rank 0's ChunkCoordinator
// serves per second, from one thread (rank 0's MPI service loop takes requests one at a time) and from
// many threads at once (contention on its mutex, the worst case). docs/DISTRIBUTED.md turns the
// figures into the largest cluster one coordinator serves.
//
//   build/bin/onnxpool_coordinator_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>

#include "onnxpool/scheduling/chunk_coordinator.hpp"

namespace {

constexpr std::size_t kChunk = 256;
// Items enough that no benchmark run exhausts them: each grant takes 256.
constexpr std::size_t kItems = std::size_t{1} << 50;

class Coordinator : public benchmark::Fixture {
 public:
  void SetUp(const benchmark::State& state) override {
    if (state.thread_index() == 0) {
      coordinator =
          std::make_unique<onnxpool::ChunkCoordinator>(kItems, static_cast<std::size_t>(state.threads()), kChunk);
    }
  }
  void TearDown(const benchmark::State& state) override {
    if (state.thread_index() == 0) coordinator.reset();
  }
  std::unique_ptr<onnxpool::ChunkCoordinator> coordinator;
};

// One grant: a rank asks, gets a chunk, reports it complete (what rank 0 does per chunk of work).
BENCHMARK_DEFINE_F(Coordinator, Grant)(benchmark::State& state) {
  const auto rank = static_cast<std::size_t>(state.thread_index());
  for (auto _ : state) {
    const onnxpool::Chunk chunk = coordinator->next(rank);
    coordinator->complete(rank, chunk);
  }
  state.counters["grants_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_REGISTER_F(Coordinator, Grant)->Threads(1)->Threads(2)->Threads(8)->Threads(64)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
