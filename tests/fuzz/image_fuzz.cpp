// Images (--images): decode_image (libjpeg-turbo, libspng, libexif behind our checks, CMYK and EXIF
// orientation) and then preprocess_image with options taken from the input's last kOptionBytes bytes:
//   [0] flags: bit 0 NHWC, bit 1 BGR, bit 2 plain resize, bit 3 no batch dim, bits 4-5 the element type
//       (float32, float16, uint8, or int32, which preprocess_image refuses)
//   [1] [2] the input's height and width, 1 to kMaxSide (small: a run stays fast)
//   [3] the shorter side S, 0 (automatic) to 79
//   [4] the mean of every channel, (b - 128) / 64;  [5] [6] [7] each channel's std, b / 64 (0 is refused)
// make_corpora.py appends such a trailer to each image it writes.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_contract.hpp"
#include "onnxpool/pipeline/image.hpp"

using onnxpool::ElementType;
using onnxpool::fuzz::require;

namespace {

constexpr std::size_t kOptionBytes = 8;
constexpr int kMaxSide = 48;
// A 700-byte CMYK JPEG may declare 10,000 x 10,000 pixels, which decode_image accepts by design
// (kMaxImagePixels) and which takes 16 s under ASan: past -timeout. 4 Mpx keeps an input under a
// second and still reaches the size check; image_decode_test covers the 100 Mpx limit itself.
constexpr std::int64_t kMaxPixels = 4'000'000;

struct Options {
  onnxpool::ImageInput input;
  onnxpool::Preprocessing how;
};

Options options_from(std::span<const std::uint8_t, kOptionBytes> b) {
  Options o;
  const unsigned flags = b[0];
  constexpr ElementType kTypes[] = {ElementType::Float, ElementType::Float16, ElementType::UInt8, ElementType::Int32};
  o.input.name = "image";
  o.input.type = kTypes[(flags >> 4U) & 3U];
  o.input.layout = (flags & 1U) != 0 ? onnxpool::ImageLayout::NHWC : onnxpool::ImageLayout::NCHW;
  o.input.height = 1 + b[1] % kMaxSide;
  o.input.width = 1 + b[2] % kMaxSide;
  const bool nhwc = o.input.layout == onnxpool::ImageLayout::NHWC;
  o.input.shape =
      nhwc ? onnxpool::Shape{o.input.height, o.input.width, 3} : onnxpool::Shape{3, o.input.height, o.input.width};
  if ((flags & 8U) == 0) o.input.shape.insert(o.input.shape.begin(), 1);
  o.how.bgr = (flags & 2U) != 0;
  o.how.plain_resize = (flags & 4U) != 0;
  o.how.shorter_side = b[3] % 80;
  o.how.mean.fill(static_cast<float>(static_cast<int>(b[4]) - 128) / 64.0F);
  for (std::size_t c = 0; c < 3; ++c) o.how.std[c] = static_cast<float>(b[5 + c]) / 64.0F;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kOptionBytes) return 0;
  const std::span<const std::uint8_t> all(data, size);
  const Options o = options_from(all.last<kOptionBytes>());
  const auto image_bytes = std::as_bytes(all.first(size - kOptionBytes));

  onnxpool::fuzz::expect_error_or_success([&] {
    const onnxpool::Image image = onnxpool::decode_image(image_bytes, "fuzz.img", kMaxPixels);
    require(image.width > 0 && image.height > 0, "a decoded image has pixels");
    require(image.pixels.size() == static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * 3,
            "three bytes per pixel");
    o.how.validate();
    const onnxpool::Tensor tensor = onnxpool::preprocess_image(image, o.input, o.how);
    require(tensor.element_type() == o.input.type && tensor.shape() == o.input.shape, "the input's type and shape");
    if (tensor.element_type() == ElementType::Float) {
      for (const float v : tensor.data<float>()) require(std::isfinite(v), "finite values");
    }
  });
  return 0;
}
