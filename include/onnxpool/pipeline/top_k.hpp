#pragma once
// `run --top-k K [--labels FILE]` for classifiers: the K best classes of every item, as a CSV a
// spreadsheet or pandas reads (item, rank, class, label, score).
//
// The CSV is made from the stacked output file once the run is complete, not item by item during it:
// a resumed run (journal.hpp) then needs nothing more to be byte-identical, and memory stays flat (the
// file is memory-mapped and read row by row). Scores are the output's values as the model gives them
// (logits for MobileNetV2, probabilities for a model that ends in Softmax); ties go to the lower class.
// An item of k rows (its output [k, C]) gives k rankings, its rows named "<item>#<row>". Failed items
// have no rows in the CSV.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/pipeline/sink.hpp"

namespace onnxpool {

// One label per line (the class index is the line number from 0), as ImageNet's synset files give them.
// Throws Error naming the file when it cannot be read or holds no line.
std::vector<std::string> read_labels(const std::filesystem::path& path);
// The same, from the file's text (`source` names it in the Error).
std::vector<std::string> parse_labels(std::string_view text, const std::string& source);

struct TopKOptions {
  std::size_t k = 5;
  std::vector<std::string> labels;  // empty: the label column stays empty
};

// Writes `csv` (under a temporary name, renamed when complete) from `stacked`, a .npy of `items` items'
// scores stacked along the first dim (float32, float16 or float64). `name(i)` names item i ("" : its
// index); `failed(i)` says whether it failed (its rows are skipped). Throws Error naming the file for
// an array that is not such scores, or labels fewer than its classes.
void write_top_k_csv(const std::filesystem::path& stacked, std::size_t items, const TopKOptions& options,
                     const std::function<std::string(std::size_t)>& name,
                     const std::function<bool(std::size_t)>& failed, const std::filesystem::path& csv);

// The sink that writes the CSV when the run is complete: it notes which items failed (one bit per item)
// and, at finish(), ranks the stacked file `stacked` (which the outputs' sink, earlier in the fan, has
// made final by then) into `csv`. Nothing is written for a run that stopped early.
class TopKSink final : public Sink {
 public:
  TopKSink(std::filesystem::path stacked, std::filesystem::path csv, std::size_t items, TopKOptions options,
           std::function<std::string(std::size_t)> name);
  void write(std::size_t index, const std::string& name, const TensorSet& outputs) override;
  void fail(const ItemFailure& failure) override;
  void kept(std::size_t index, const std::string& name) override;
  void kept_failure(const ItemFailure& failure) override { fail(failure); }
  void finish() override;
  [[nodiscard]] const std::filesystem::path& csv() const { return csv_; }

 private:
  std::filesystem::path stacked_;
  std::filesystem::path csv_;
  std::size_t items_;
  TopKOptions options_;
  std::function<std::string(std::size_t)> name_;
  std::vector<bool> failed_;
  std::size_t accounted_ = 0;
};

}  // namespace onnxpool
