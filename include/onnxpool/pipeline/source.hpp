#pragma once
// Sources of items for the streaming run (stream.hpp). An item is read when the run is ready to take
// it, never all at once, so memory does not grow with the number of items. A source knows how many
// items it has; an item that cannot be read is that item's failure, not the run's.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class Source {
 public:
  Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;
  virtual ~Source() = default;

  [[nodiscard]] virtual std::size_t size() const = 0;
  // What item `index` is called in failures and per-item outputs ("test_data_set_3"); "" when the
  // source has no names (the index names it).
  [[nodiscard]] virtual std::string name(std::size_t /*index*/) const { return {}; }
  // Item `index`'s inputs, by name. Called from one thread. Throws Error when the item cannot be read.
  virtual TensorSet read(std::size_t index) = 0;
};

// Random inputs, made when read: item i is inputs_from_files(..., seed + i), the values `run --random`
// always gave, so a million items need no memory. Inputs given as files are read once, here, and shared.
class RandomSource final : public Source {
 public:
  // Throws Error for a file that cannot be read, names no input or holds a tensor the model refuses, and
  // UnboundDimError for an input whose shape the bindings leave open: what would fail every item.
  RandomSource(ModelInfo model, DimBindings bindings, std::vector<InputFile> files, std::uint64_t seed,
               std::size_t count);
  [[nodiscard]] std::size_t size() const override { return count_; }
  TensorSet read(std::size_t index) override;

 private:
  ModelInfo model_;
  DimBindings bindings_;
  std::vector<InputFile> files_;
  std::vector<Tensor> file_tensors_;
  std::uint64_t seed_;
  std::size_t count_;
};

// An input given as an array whose first dim indexes the items: `--data NAME=FILE.npy`.
struct DataFile {
  std::string input;
  std::filesystem::path file;
  static DataFile parse(std::string_view text);  // "NAME=FILE"; throws Error
};

class MappedFile;

// Items from memory-mapped .npy arrays, one per given input; the model's other inputs are random (or
// from files) as RandomSource makes them. Item i of an input whose own first dim is k (1 for a batch
// dim left unbound, or what --dim binds it to) is rows [i*k, (i+1)*k) of its array: a view of the
// mapping (Tensor::view, no copy) where the layout allows, else (big-endian data, bools to normalise,
// strings) a copy. Only the pages of the items read are touched, and they are handed back once the
// item is done (its view dropped, or its copy made), so memory stays flat however large the arrays.
// Every array must give the same number of items.
class ArraySource final : public Source {
 public:
  // Maps the arrays and checks them (shapes, one item count). Throws Error naming the file (and, for a
  // count that differs, both files), or UnboundDimError, before any item is made.
  ArraySource(ModelInfo model, DimBindings bindings, const std::vector<DataFile>& arrays, std::vector<InputFile> files,
              std::uint64_t seed);
  ~ArraySource() override;
  [[nodiscard]] std::size_t size() const override { return count_; }
  TensorSet read(std::size_t index) override;

 private:
  struct Array;
  ModelInfo model_;
  DimBindings bindings_;
  std::vector<Array> arrays_;
  std::vector<InputFile> files_;  // the arrays' inputs first (their tensors made per item), then --input's
  std::vector<Tensor> file_tensors_;
  std::uint64_t seed_;
  std::size_t count_ = 0;
};

// ONNX test-data folders (load_data_sets' layout), one item per folder, each read when taken; or the
// entries of a list, each a folder of that layout or, for a model of one input, a tensor file (.npy or
// .pb) holding it.
class DataSetSource final : public Source {
 public:
  // Lists the folders (data_set_folders); throws Error when there are none.
  DataSetSource(ModelInfo model, const std::filesystem::path& dir);
  // The entries as given (a list file's lines); each item is named by its path.
  DataSetSource(ModelInfo model, std::vector<std::filesystem::path> entries);
  [[nodiscard]] std::size_t size() const override { return folders_.size(); }
  [[nodiscard]] std::string name(std::size_t index) const override;
  TensorSet read(std::size_t index) override;
  // The expected outputs in item `index`'s folder (output_K.pb or <output>.npy); empty when none.
  [[nodiscard]] TensorSet expected(std::size_t index) const;

 private:
  ModelInfo model_;
  std::filesystem::path dir_;  // empty for a list
  std::vector<std::filesystem::path> folders_;
};

// The paths of a list file, one per line (blank lines and lines starting with '#' skipped), relative
// ones taken from the list's own folder. Throws Error naming the list when it cannot be read or is empty.
std::vector<std::filesystem::path> read_path_list(const std::filesystem::path& list);
// The same, from the list's text (`list` names it, and relative paths are taken from its folder).
std::vector<std::filesystem::path> parse_path_list(std::string_view text, const std::filesystem::path& list);

}  // namespace onnxpool
