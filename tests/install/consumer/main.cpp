// The README's library example, as a user would build it against an installed onnxpool:
// runs a model over random inputs with a pool and checks the outputs against one worker's.
#include <cstdio>
#include <onnxpool/pipeline/inputs.hpp>
#include <onnxpool/pool/pool.hpp>
#include <onnxpool/runtime/runtime.hpp>
#include <onnxpool/runtime/worker.hpp>

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
  std::printf("consumer: %zu items, outputs equal one worker's\n", outputs.size());
  return 0;
}
