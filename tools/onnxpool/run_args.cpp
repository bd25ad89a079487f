#include "run_args.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "onnxpool/error.hpp"
#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool::cli {

ExpectedOutputs::ExpectedOutputs(const ModelInfo& model, const std::filesystem::path& dir, std::size_t item_count,
                                 double rtol, double atol)
    : model_(model), dir_(dir), folders_(data_set_folders(dir)), rtol_(rtol), atol_(atol) {
  if (folders_.size() != item_count) {
    throw Error(fmt::format("{}: {} sets of expected outputs for {} items", dir.string(), folders_.size(), item_count));
  }
}

void ExpectedOutputs::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  const std::string item = name.empty() ? fmt::format("item {}", index) : name;
  const TensorSet expected = load_expected_outputs(model_, folders_[index]);
  if (expected.empty()) {
    throw Error(fmt::format("{}: no expected outputs (output_K.pb or <output>.npy) for item {}", dir_.string(), index));
  }
  for (const auto& want : expected) {
    const auto got = std::find_if(outputs.begin(), outputs.end(), [&](const auto& o) { return o.name == want.name; });
    if (got == outputs.end()) {
      throw Error(fmt::format("{}: expected output '{}' is not an output of the model", item, want.name));
    }
    const Comparison c = compare(want.tensor, got->tensor, rtol_, atol_);
    all_equal_ = all_equal_ && c.equal;
    fmt::print("compare {} / {}: max abs error {:.3g}, max rel error {:.3g}: {}\n", item, want.name, c.max_abs_error,
               c.max_rel_error, c.equal ? "OK" : "MISMATCH: " + c.problem);
  }
}

namespace {

class DelayedSource final : public Source {
 public:
  DelayedSource(std::unique_ptr<Source> inner, double delay_ms) : inner_(std::move(inner)), delay_ms_(delay_ms) {}
  [[nodiscard]] std::size_t size() const override { return inner_->size(); }
  [[nodiscard]] std::string name(std::size_t index) const override { return inner_->name(index); }
  TensorSet read(std::size_t index) override {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay_ms_));
    return inner_->read(index);
  }

 private:
  std::unique_ptr<Source> inner_;
  double delay_ms_;
};

}  // namespace

void warm_up(Pool& pool, Source& source, std::size_t count) {
  std::vector<TensorSet> warm;
  for (std::size_t i = 0; i < count; ++i) {
    try {
      warm.push_back(source.read(i));
    } catch (const Error&) {
    }
  }
  std::vector<std::future<TensorSet>> results;
  results.reserve(warm.size());
  for (auto& item : warm) results.push_back(pool.submit(std::move(item)));
  for (auto& result : results) {
    try {
      static_cast<void>(result.get());
    } catch (const Error&) {
    }
  }
}

std::unique_ptr<Source> delayed(std::unique_ptr<Source> source, double delay_ms) {
  if (delay_ms <= 0.0) return source;
  return std::make_unique<DelayedSource>(std::move(source), delay_ms);
}

std::string FirstFailure::describe(const ItemFailure& f) {
  std::string item = f.name.empty() ? fmt::format("item {}", f.index) : fmt::format("item {} ({})", f.index, f.name);
  if (!f.worker.empty()) item += " on worker " + f.worker;
  return item + ": " + f.cause;
}

}  // namespace onnxpool::cli
