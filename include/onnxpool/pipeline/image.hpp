#pragma once
// Images as model inputs: decoding JPEG and PNG files to 8-bit RGB, and the preprocessing that turns
// one into the tensor of a model's image input (what torchvision's ImageNet transforms do).
//
// Decoding (image_decode.cpp, image_exif.cpp) uses Debian's libjpeg-turbo (TurboJPEG API), libspng and
// libexif, chosen over OpenCV's imgcodecs, which in Debian 12 drags in GDAL and hundreds of MB. Every
// image becomes RGB, 8 bits per channel, the way PIL's Image.convert("RGB") after
// ImageOps.exif_transpose() would make it:
//   - grey (JPEG or PNG, any bit depth) is replicated to R=G=B;
//   - CMYK and YCCK JPEG follow Adobe's inverted-CMYK convention, as PIL assumes: with C', K' the stored
//     (inverted) values, R = K' - K'*(255-C')/255, likewise G and B;
//   - 16-bit PNG keeps the high byte of each sample (PIL's RGB;16B; PIL clips 16-bit grey instead);
//   - palette, grey+alpha and RGBA PNG become RGB; alpha is dropped, not blended (as convert("RGB"));
//   - the EXIF orientation (JPEG APP1 or PNG eXIf) 2-8 is applied: mirrored and rotated upright;
//   - a file that is not a JPEG or PNG, is corrupt or truncated, or declares more than kMaxImagePixels
//     pixels (checked on the header, before any pixel memory is taken) throws Error naming the file.
//
// Preprocessing (image_preprocess.cpp), step by step:
//   1. Resize, with the separable antialiased bilinear filter of PIL's Image.resize(BILINEAR) and
//      torchvision's Resize: a triangle filter whose support widens by the downscale factor, so every
//      source pixel counts when shrinking. Either the shorter side becomes S and the longer one
//      floor(S * longer / shorter) (torchvision's Resize(S)), or, with `plain_resize`, straight to the
//      input's H x W. Computed in float (PIL rounds to 8 bits between its two passes: its values differ
//      from these by at most one level).
//   2. Center-crop to H x W, the offsets rounded as torchvision's CenterCrop does (Python's round:
//      halves to even); a side shorter than the crop is padded with zeros on both sides, as there.
//   3. Channels in RGB order, or BGR.
//   4. Values: uint8 inputs get the pixels rounded to 0-255, unnormalised; float32 and float16 inputs
//      get (pixel / 255 - mean[c]) / std[c], ImageNet's mean and std by default.
//   5. Layout: NCHW or NHWC as the input's shape says, with a batch dim of 1 when it has one.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

// The largest width x height accepted (a 10,000 x 10,000 photo; PIL's own bomb limit is about 179 M).
// A hostile header cannot make a decode allocate more than 3 bytes per pixel of this.
inline constexpr std::int64_t kMaxImagePixels = 100'000'000;

// An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 3

  [[nodiscard]] const std::uint8_t* at(int x, int y) const {
    return pixels.data() +
           (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 3;
  }
};

// Decodes a JPEG or PNG (told apart by their first bytes, not the name) to upright RGB as above.
// Throws Error "<source>: <what is wrong>" on one line. `max_pixels` lowers the size accepted, for a
// caller that must bound what one image costs: a few hundred bytes of JPEG may declare 10,000 x 10,000
// pixels, and decode to them (hundreds of MB, a second of CPU).
Image decode_image(std::span<const std::byte> bytes, const std::string& source,
                   std::int64_t max_pixels = kMaxImagePixels);
// Reads and decodes a file; errors name it.
Image decode_image_file(const std::filesystem::path& file);

// EXIF orientation (1-8, the TIFF tag 0x0112) of a JPEG's APP1 segment or of a PNG's eXIf chunk
// (the TIFF data itself); 1 (upright) when there is none or it is not a valid value.
int jpeg_exif_orientation(std::span<const std::byte> jpeg);
int tiff_exif_orientation(std::span<const std::byte> tiff);
// The image turned upright for an orientation of 2-8 (PIL's ImageOps.exif_transpose); itself for others.
Image apply_orientation(Image image, int orientation);

// How the model takes an image.
enum class ImageLayout { NCHW, NHWC };

struct ImageInput {
  std::string name;
  ElementType type = ElementType::Float;  // Float, Float16 or UInt8
  ImageLayout layout = ImageLayout::NCHW;
  Shape shape;  // the item's tensor shape: [1,3,H,W], [1,H,W,3], [3,H,W] or [H,W,3]
  std::int64_t height = 0;
  std::int64_t width = 0;
};

// The default H and W of an image input whose height and width no binding gives.
inline constexpr std::int64_t kDefaultImageSide = 224;

// The model's image input: its only input, or else the one input that looks like an image (rank 4 with
// a channel dim of 3 at 1 or 3, or rank 3 with it at 0 or 2; float32, float16 or uint8). A symbolic
// batch dim becomes 1, a symbolic channel dim 3 (NCHW when no dim says 3); symbolic H and W come from
// the bindings (by name or the input's whole shape), else kDefaultImageSide. Throws Error naming the
// model's inputs when none or several fit, or why the only one does not.
ImageInput find_image_input(const ModelInfo& model, const DimBindings& bindings);

struct Preprocessing {
  std::int64_t shorter_side = 0;  // S; 0: round(max(H, W) / 0.875), i.e. 256 for 224
  bool plain_resize = false;      // resize straight to H x W, no crop
  bool bgr = false;
  std::array<float, 3> mean{0.485F, 0.456F, 0.406F};  // in the 0-1 scale, RGB order
  std::array<float, 3> std{0.229F, 0.224F, 0.225F};

  // Throws Error for a std of 0 or a negative S.
  void validate() const;
  // S for an input of this size.
  [[nodiscard]] std::int64_t shorter_side_for(std::int64_t height, std::int64_t width) const;
};

// An image resized by the antialiased bilinear filter, as float samples (interleaved RGB, 0-255).
struct FloatImage {
  int width = 0;
  int height = 0;
  std::vector<float> samples;  // width * height * 3
};
FloatImage resize_bilinear(const Image& image, int width, int height);
// The size step 1 resizes to: the shorter side S, the longer floor(S * longer / shorter).
std::array<int, 2> shorter_side_size(int width, int height, std::int64_t shorter_side);  // {width, height}
// The top-left corner of torchvision's center crop of `size` out of `extent` (negative when padded).
std::int64_t center_crop_offset(std::int64_t extent, std::int64_t size);

// Steps 1-5: the tensor for `input` (its shape and element type).
Tensor preprocess_image(const Image& image, const ImageInput& input, const Preprocessing& how);

}  // namespace onnxpool
