#include "onnxpool/pipeline/image_source.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <fmt/format.h>

namespace onnxpool {

bool is_image_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::vector<ImageEntry> list_images(const std::vector<std::filesystem::path>& paths) {
  std::vector<ImageEntry> images;
  for (const auto& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<ImageEntry> found;
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file() && is_image_path(entry.path())) {
          found.push_back({.path = entry.path(), .name = entry.path().filename().string()});
        }
      }
      std::sort(found.begin(), found.end(), [](const ImageEntry& a, const ImageEntry& b) { return a.name < b.name; });
      images.insert(images.end(), found.begin(), found.end());
    } else if (std::filesystem::exists(path, ec)) {
      images.push_back({.path = path, .name = path.string()});
    } else {
      throw Error(fmt::format("{}: no such file or folder", path.string()));
    }
  }
  if (images.empty()) {
    std::vector<std::string> given;
    given.reserve(paths.size());
    for (const auto& path : paths) given.push_back(path.string());
    throw Error(fmt::format("no images (.jpg, .jpeg, .png) in {}", given.empty() ? "no path" : given.front()));
  }
  return images;
}

ImageSource::ImageSource(ModelInfo model, DimBindings bindings, std::vector<ImageEntry> images, Preprocessing how,
                         std::vector<InputFile> files, std::uint64_t seed)
    : model_(std::move(model)),
      bindings_(std::move(bindings)),
      images_(std::move(images)),
      how_(how),
      input_(find_image_input(model_, bindings_)),
      seed_(seed) {
  if (images_.empty()) throw Error("no images to run");
  how_.validate();
  // The image input's open dims take the values chosen for it (batch 1, H and W), so that another input
  // sharing a dim's name gets the same value.
  const ValueInfo& declared = model_.input(input_.name);
  for (std::size_t i = 0; i < declared.shape.size(); ++i) {
    const Dim& dim = declared.shape[i];
    if (!dim.fixed() && !dim.symbol.empty()) bindings_.by_name.emplace(dim.symbol, input_.shape[i]);
  }
  for (const auto& file : files) {
    if (file.input == input_.name) throw Error(fmt::format("input '{}' takes the images and a file", file.input));
  }
  // The image input comes first among the files: its tensor is made per item in read().
  files_.push_back({.input = input_.name, .file = "(the image)"});
  const std::vector<Tensor> given = read_input_files(model_, files);
  files_.insert(files_.end(), files.begin(), files.end());
  file_tensors_.push_back(Tensor(input_.type, input_.shape));
  file_tensors_.insert(file_tensors_.end(), given.begin(), given.end());
  // What would fail every item alike (another input that cannot be made or that the model refuses) stops
  // the run here, with a blank image in place of the first: no image is read before the run.
  static_cast<void>(inputs_from_files(model_, files_, file_tensors_, bindings_, seed_));
}

TensorSet ImageSource::read(std::size_t index) {
  const ImageEntry& entry = images_.at(index);
  file_tensors_.front() = preprocess_image(decode_image_file(entry.path), input_, how_);
  return inputs_from_files(model_, files_, file_tensors_, bindings_, seed_ + static_cast<std::uint64_t>(index));
}

}  // namespace onnxpool
