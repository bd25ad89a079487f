#pragma once
// Inputs for a model: random tensors (seeded) for each input, symbolic dims bound by name or by whole
// shape, tensors read from files, and ONNX test-data folders (test_data_set_N/input_K.pb).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "onnxpool/runtime/model.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

// How symbolic dims get their values: "batch_size=8" binds every dim of that name (the CLI's --dim);
// "x:1,3,640,640" gives input x its whole shape (--shape). Errors quote the text and say what is wrong;
// the CLI names its flag in front.
struct DimBindings {
  std::map<std::string, std::int64_t> by_name;
  std::map<std::string, Shape> shape_of_input;

  void bind_dim(std::string_view text);    // "name=VALUE"; throws Error on a bad form or value < 0
  void bind_shape(std::string_view text);  // "input:D0,D1,..." ; throws Error
};

// A dim of an input that no binding gives a value: a symbolic one (dim() its name) or an unnamed one
// past the first (dim() empty, position() its index). The message says which and of what input; a front
// end adds how its users bind it (the CLI: --dim NAME=VALUE or --shape INPUT:...).
class UnboundDimError : public Error {
 public:
  UnboundDimError(std::string input, std::string dim, std::size_t position, const std::string& message)
      : Error(message), input_(std::move(input)), dim_(std::move(dim)), position_(position) {}
  [[nodiscard]] const std::string& input() const noexcept { return input_; }
  [[nodiscard]] const std::string& dim() const noexcept { return dim_; }
  [[nodiscard]] std::size_t position() const noexcept { return position_; }

 private:
  std::string input_;
  std::string dim_;
  std::size_t position_;
};

// True for dim names the tutorial treats as the batch (default 1 when unbound): batch_size, batch, N.
bool is_batch_dim_name(std::string_view name);

// The concrete shape of an input: its fixed dims, bound symbolic dims, and 1 for an unbound batch
// dim (a batch-like name, or an unnamed first dim). Throws UnboundDimError when a dim stays unbound, and
// Error when a whole-shape binding contradicts a fixed dim or the rank.
Shape resolve_shape(const ValueInfo& input, const DimBindings& bindings);

// Random values of the input's type: floats uniform in [0, 1), integers in [0, index_limit) when the
// input indexes a table (token ids) else [0, 100), bools fair, strings "s<N>".
Tensor random_tensor(ElementType type, const Shape& shape, std::mt19937_64& rng,
                     std::optional<std::int64_t> index_limit = std::nullopt);

// One random item for every model input. The same seed gives the same tensors.
TensorSet random_inputs(const ModelInfo& model, const DimBindings& bindings, std::uint64_t seed);

// Checks an item against the model: every input present once, no unknown name, element type, rank and
// fixed dims as declared, the same value for a symbolic dim name across inputs. Throws Error naming
// the input, e.g. "input 'x' (from a.npy): element type int64, the model wants float32".
void check_inputs(const ModelInfo& model, const TensorSet& inputs);

// An input given as a file: `--input NAME=FILE`.
struct InputFile {
  std::string input;
  std::filesystem::path file;
  static InputFile parse(std::string_view text);  // "NAME=FILE"; throws Error
};
// The tensors of `files`, in their order, read once for all the items that share them. Throws Error for
// a file that cannot be read, an input the model does not have, or an input given two files.
std::vector<Tensor> read_input_files(const ModelInfo& model, const std::vector<InputFile>& files);
// One item: the inputs named in `files` (their tensors already read: tensors[k] is files[k]'s), every
// other input random (seeded: the same seed gives the same item). Throws Error naming the file of a
// tensor the model refuses.
TensorSet inputs_from_files(const ModelInfo& model, const std::vector<InputFile>& files,
                            std::span<const Tensor> tensors, const DimBindings& bindings, std::uint64_t seed);
// The same, reading the files.
TensorSet inputs_from_files(const ModelInfo& model, const std::vector<InputFile>& files, const DimBindings& bindings,
                            std::uint64_t seed);

// A set of inputs read from a folder, with the expected outputs when the folder has them.
struct DataSet {
  std::string name;  // the folder's name (test_data_set_0) or "" for a flat folder
  TensorSet inputs;
  TensorSet expected;  // output_K.pb or <output>.npy; empty when none
};
// `dir` is one test-data folder (input_K.pb files, or <input>.npy files named after the inputs), or a
// folder of such folders (test_data_set_0, test_data_set_1...; sorted by their number). Inputs are
// matched by the tensor's name when it names a model input, else by K in the model's input order.
std::vector<DataSet> load_data_sets(const ModelInfo& model, const std::filesystem::path& dir);
// One of them: the folder's inputs (checked against the model) and expected outputs, under `name`.
DataSet load_data_set(const ModelInfo& model, const std::filesystem::path& folder, std::string name);
// The data-set folders of `dir` in that order: `dir` itself when it holds tensor files, else its
// subfolders that do. Throws Error when there are none.
std::vector<std::filesystem::path> data_set_folders(const std::filesystem::path& dir);
// Reads the expected outputs of one folder (output_K.pb or <output>.npy) for the model's outputs.
TensorSet load_expected_outputs(const ModelInfo& model, const std::filesystem::path& dir);

}  // namespace onnxpool
