#include "onnxpool/pipeline/source.hpp"

#include <utility>

namespace onnxpool {

RandomSource::RandomSource(ModelInfo model, DimBindings bindings, std::vector<InputFile> files, std::uint64_t seed,
                           std::size_t count)
    : model_(std::move(model)),
      bindings_(std::move(bindings)),
      files_(std::move(files)),
      file_tensors_(read_input_files(model_, files_)),
      seed_(seed),
      count_(count) {
  // What would fail every item alike (a dim no binding gives, a file the model refuses) stops the run
  // here, before any work, not item by item: item 0 is made once to find out.
  if (count_ > 0) static_cast<void>(read(0));
}

TensorSet RandomSource::read(std::size_t index) {
  return inputs_from_files(model_, files_, file_tensors_, bindings_, seed_ + static_cast<std::uint64_t>(index));
}

DataSetSource::DataSetSource(ModelInfo model, const std::filesystem::path& dir)
    : model_(std::move(model)), dir_(dir), folders_(data_set_folders(dir)) {}

std::string DataSetSource::name(std::size_t index) const {
  const auto& folder = folders_.at(index);
  return folder == dir_ ? std::string() : folder.filename().string();
}

TensorSet DataSetSource::read(std::size_t index) {
  return load_data_set(model_, folders_.at(index), name(index)).inputs;
}

TensorSet DataSetSource::expected(std::size_t index) const {
  return load_expected_outputs(model_, folders_.at(index));
}

}  // namespace onnxpool
