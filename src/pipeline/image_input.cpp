// Which input of a model takes the image, and in what layout and size (find_image_input, image.hpp).
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "onnxpool/pipeline/image.hpp"

namespace onnxpool {
namespace {

constexpr const char* kWanted =
    "an image input is float32, float16 or uint8 of shape [N,3,H,W], [N,H,W,3], [3,H,W] or [H,W,3]";

// The value of dim i as the model fixes it or the bindings give it; nullopt when neither does.
std::optional<std::int64_t> dim_value(const ValueInfo& input, const DimBindings& bindings, std::size_t i) {
  if (const auto given = bindings.shape_of_input.find(input.name); given != bindings.shape_of_input.end()) {
    if (given->second.size() == input.shape.size()) return given->second[i];
  }
  const Dim& dim = input.shape[i];
  if (dim.fixed()) return dim.value;
  if (const auto bound = bindings.by_name.find(dim.symbol); !dim.symbol.empty() && bound != bindings.by_name.end()) {
    return bound->second;
  }
  return std::nullopt;
}

// The input as an image input, or why it is not one (`why` set, nullopt returned).
std::optional<ImageInput> as_image_input(const ValueInfo& input, const DimBindings& bindings, std::string& why) {
  if (input.type != ElementType::Float && input.type != ElementType::Float16 && input.type != ElementType::UInt8) {
    why = fmt::format("its element type is {}", element_type_name(input.type));
    return std::nullopt;
  }
  const std::size_t rank = input.shape.size();
  if (rank != 3 && rank != 4) {
    why = fmt::format("its rank is {}", rank);
    return std::nullopt;
  }
  if (const auto given = bindings.shape_of_input.find(input.name);
      given != bindings.shape_of_input.end() && given->second.size() != rank) {
    why = fmt::format("the shape given for it has rank {}", given->second.size());
    return std::nullopt;
  }
  const std::size_t first = rank == 4 ? 1 : 0;  // the first dim after the batch
  const auto value = [&](std::size_t i) { return dim_value(input, bindings, i); };
  ImageInput image{
      .name = input.name, .type = input.type, .layout = ImageLayout::NCHW, .shape = {}, .height = 0, .width = 0};
  std::size_t h = first + 1;
  const auto channels_first = value(first);
  if (channels_first != 3 && value(first + 2) == 3) {
    image.layout = ImageLayout::NHWC;
    h = first;
  } else if (channels_first == 3 || !channels_first) {
    image.layout = ImageLayout::NCHW;  // also [N,C,H,W] with C open, as exporters most often leave it
  } else {
    why = "no dim holds the 3 colour channels";
    return std::nullopt;
  }
  if (rank == 4) {
    if (const auto batch = value(0); batch && *batch != 1) {
      why =
          fmt::format("its batch dim is {}: an item is one image (stack items with the pool's batch instead)", *batch);
      return std::nullopt;
    }
  }
  image.height = value(h).value_or(kDefaultImageSide);
  image.width = value(h + 1).value_or(kDefaultImageSide);
  if (image.height < 1 || image.width < 1) {
    why = fmt::format("its height and width are {}x{}", image.height, image.width);
    return std::nullopt;
  }
  if (rank == 4) image.shape.push_back(1);
  if (image.layout == ImageLayout::NCHW) {
    image.shape.insert(image.shape.end(), {3, image.height, image.width});
  } else {
    image.shape.insert(image.shape.end(), {image.height, image.width, 3});
  }
  return image;
}

}  // namespace

ImageInput find_image_input(const ModelInfo& model, const DimBindings& bindings) {
  if (model.inputs.empty()) throw Error("the model has no input to take an image");
  std::string why;
  if (model.inputs.size() == 1) {
    const ValueInfo& only = model.inputs.front();
    if (auto image = as_image_input(only, bindings, why)) return *image;
    throw Error(
        fmt::format("input '{}' {} cannot take an image: {}; {}", only.name, only.shape_string(), why, kWanted));
  }
  std::vector<ImageInput> fits;
  std::vector<std::string> names;
  names.reserve(model.inputs.size());
  for (const ValueInfo& input : model.inputs) {
    names.push_back(fmt::format("'{}' {} {}", input.name, element_type_name(input.type), input.shape_string()));
    if (auto image = as_image_input(input, bindings, why)) fits.push_back(std::move(*image));
  }
  if (fits.size() == 1) return fits.front();
  if (fits.empty()) {
    throw Error(fmt::format("none of the model's inputs ({}) can take an image: {}", fmt::join(names, ", "), kWanted));
  }
  std::vector<std::string> fitting;
  fitting.reserve(fits.size());
  for (const ImageInput& image : fits) fitting.push_back("'" + image.name + "'");
  throw Error(fmt::format("several of the model's inputs could take the image ({}) of {}", fmt::join(fitting, ", "),
                          fmt::join(names, ", ")));
}

}  // namespace onnxpool
