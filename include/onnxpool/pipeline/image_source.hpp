#pragma once
// Items from image files (JPEG, PNG): each item is one image, decoded and preprocessed for the model's
// image input when it is read (image.hpp says how), so only the images in flight are in memory. The
// model's other inputs, if any, come from files or are random, as RandomSource makes them.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "onnxpool/pipeline/image.hpp"
#include "onnxpool/pipeline/source.hpp"

namespace onnxpool {

// Whether a path names an image by its extension: .jpg, .jpeg or .png, in any case.
bool is_image_path(const std::filesystem::path& path);

// One image to read, and what the item is called: its path, relative to the folder it was found in.
struct ImageEntry {
  std::filesystem::path path;
  std::string name;
};

// The images of each given path in turn: a file as given (whatever its extension: the decoder tells
// JPEG from PNG by its bytes), a folder's image files by extension, not recursing into subfolders, in
// byte order of their names. Throws Error naming a path that does not exist, and when there is no image.
std::vector<ImageEntry> list_images(const std::vector<std::filesystem::path>& paths);

class ImageSource final : public Source {
 public:
  // Picks the image input (find_image_input) and checks that the other inputs can be made, before any
  // image is read. Throws Error when there is no image, no suitable input, or `how` is invalid.
  ImageSource(ModelInfo model, DimBindings bindings, std::vector<ImageEntry> images, Preprocessing how,
              std::vector<InputFile> files, std::uint64_t seed);
  [[nodiscard]] std::size_t size() const override { return images_.size(); }
  [[nodiscard]] std::string name(std::size_t index) const override { return images_.at(index).name; }
  // Decodes and preprocesses image `index`. Throws Error naming the file when it cannot be.
  TensorSet read(std::size_t index) override;
  [[nodiscard]] const ImageInput& input() const { return input_; }

 private:
  ModelInfo model_;
  DimBindings bindings_;
  std::vector<ImageEntry> images_;
  Preprocessing how_;
  ImageInput input_;
  std::vector<InputFile> files_;  // the image input first (its tensor made per item), then --input's
  std::vector<Tensor> file_tensors_;
  std::uint64_t seed_;
};

}  // namespace onnxpool
