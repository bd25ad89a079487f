#pragma once
// What `run` is given on its command line, shared by the single-process run (cmd_run.cpp) and the run
// across MPI ranks (run_ranks.cpp), and the sinks both use besides the outputs.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "onnxpool/pipeline/sink.hpp"
#include "onnxpool/pipeline/source.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/model.hpp"
#include "options.hpp"

namespace onnxpool::cli {

struct RunArgs {
  std::string model;
  InputArgs inputs;
  PoolFlags pool;
  std::string output_dir;
  std::string compare_dir;
  double rtol = 1e-4;
  double atol = 1e-5;
  bool quiet = false;
  int warmup = 0;
  std::size_t max_failures = 0;
  bool fail_fast = false;
  bool per_item = false;
  bool overwrite = false;
  bool resume = false;
  std::size_t top_k = 0;
  std::size_t window = 0;
  std::string labels;
  std::string json;
  std::string shard;           // --shard K/N: "" for the whole run
  double item_delay_ms = 0.0;  // --test-item-delay (hidden): a slow rank, for tests
};

// --warmup: the first `count` items once through the pool, untimed and unwritten (an item that cannot
// be read or run is left out: the run reports it in its place).
void warm_up(Pool& pool, Source& source, std::size_t count);

// `source`, each item read `delay_ms` later (0: `source` itself).
std::unique_ptr<Source> delayed(std::unique_ptr<Source> source, double delay_ms);

// What makes two runs the same run, for --resume (journal.hpp): the model file, where the items come
// from, and how the outputs are laid out.
std::string run_identity(const RunArgs& args, bool stacked);

// --compare: each item's outputs against the expected ones of its folder (the i-th of DIR's data
// sets), one printed line per output, as results arrive.
class ExpectedOutputs final : public Sink {
 public:
  ExpectedOutputs(const ModelInfo& model, const std::filesystem::path& dir, std::size_t item_count, double rtol,
                  double atol);
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override;
  [[nodiscard]] bool all_equal() const { return all_equal_; }

 private:
  const ModelInfo& model_;
  std::filesystem::path dir_;
  std::vector<std::filesystem::path> folders_;
  double rtol_;
  double atol_;
  bool all_equal_ = true;
};

// "3 of 100 items failed (out/failures.jsonl); first: item 7 on worker cpu#1: <cause>".
class FirstFailure final : public Sink {
 public:
  void write(std::size_t /*index*/, const std::string& /*name*/, const TensorSet& /*outputs*/) override {}
  void fail(const ItemFailure& failure) override {
    if (!first_ || failure.index < first_->index) first_ = failure;
  }
  [[nodiscard]] std::string first() const { return first_ ? describe(*first_) : std::string(); }
  // "item 7 (name) on worker cpu#1: <cause>"
  [[nodiscard]] static std::string describe(const ItemFailure& failure);

 private:
  std::optional<ItemFailure> first_;
};

}  // namespace onnxpool::cli
