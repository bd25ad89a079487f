// The README's library example, as a user would build it against an installed onnxpool:
// runs a model over random inputs with a pool and checks the outputs against one worker's.
#include <unistd.h>
#include <cstdio>

#include <filesystem>
#include <onnxpool/pipeline/inputs.hpp>
#include <onnxpool/pipeline/stream.hpp>
#include <onnxpool/pool/pool.hpp>
#include <onnxpool/runtime/runtime.hpp>
#include <onnxpool/runtime/worker.hpp>
#include <onnxpool/tensor/tensor_io.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  onnxpool::Runtime runtime;
  const auto model = onnxpool::inspect_model(runtime, argv[1]);
  std::vector<onnxpool::TensorSet> items;
  for (int i = 0; i < 8; ++i) items.push_back(onnxpool::random_inputs(model, {}, i));

  onnxpool::Pool pool(runtime, argv[1], {.workers = 2, .threads = 1});
  const auto outputs = pool.run_all(items);

  onnxpool::Worker single(runtime, argv[1], {.name = "single"});
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!(single.run(items[i])[0].tensor == outputs[i][0].tensor)) return 1;
  }
  // The README's streaming example, small: the stacked outputs are the run_all outputs' rows.
  const auto dir = std::filesystem::temp_directory_path() / ("onnxpool-consumer-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  onnxpool::RandomSource source(model, {}, {}, 0, 8);
  onnxpool::StackedNpySink scores(dir, source.size());
  onnxpool::FailureLog failures(dir / "failures.jsonl");
  onnxpool::SinkFan sink({&scores, &failures});
  const onnxpool::StreamSummary done = onnxpool::run_stream(pool, source, sink);
  const bool stacked = done.items == 8 && done.failed == 0 &&
                       onnxpool::read_npy(dir / (outputs[0][0].name + ".npy")).shape().front() ==
                           8 * outputs[0][0].tensor.shape().front();
  std::filesystem::remove_all(dir);
  if (!stacked) return 1;
  std::printf("consumer: %zu items, outputs equal one worker's; %zu streamed\n", outputs.size(), done.items);
  return 0;
}
