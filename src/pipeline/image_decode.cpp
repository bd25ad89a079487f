// JPEG and PNG to 8-bit RGB (image.hpp says what each kind of image becomes). The decoding itself is
// Debian's libjpeg-turbo (TurboJPEG API) and libspng; only the checks and the CMYK-to-RGB step are here
// (libjpeg-turbo hands CMYK over as stored and converts it to nothing else; PIL's formula is one line).
#include <spng.h>
#include <turbojpeg.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string_view>

#include <fmt/format.h>

#include "onnxpool/pipeline/image.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {
namespace {

constexpr std::array<unsigned char, 3> kJpegMagic{0xFF, 0xD8, 0xFF};
constexpr std::array<unsigned char, 8> kPngMagic{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

template <std::size_t N>
bool starts_with(std::span<const std::byte> bytes, const std::array<unsigned char, N>& magic) {
  return bytes.size() >= N && std::memcmp(bytes.data(), magic.data(), N) == 0;
}

void check_size(std::int64_t width, std::int64_t height, std::int64_t max_pixels, const std::string& source) {
  if (width <= 0 || height <= 0) {
    throw Error(fmt::format("{}: a corrupt image: its header gives a size of {}x{} pixels", source, width, height));
  }
  if (width * height > max_pixels) {
    throw Error(fmt::format("{}: the image is {}x{} pixels, more than the {} accepted (width x height)", source, width,
                            height, max_pixels));
  }
}

Image blank(int width, int height) {
  Image image{.width = width, .height = height, .pixels = {}};
  image.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  return image;
}

// PIL's cmyk2rgb on its "CMYK;I" unpacking (Adobe's inverted CMYK, which libjpeg hands over as stored):
// with c = 255 - C' and nk = K', R = nk - c*nk/255, the product rounded as PIL's MULDIV255 does.
std::uint8_t cmyk_channel(std::uint8_t stored, std::uint8_t stored_k) {
  const int c = 255 - stored;
  const int nk = stored_k;
  const int product = c * nk + 128;
  const int scaled = ((product >> 8) + product) >> 8;
  return static_cast<std::uint8_t>(std::clamp(nk - scaled, 0, 255));
}

using TjHandle = std::unique_ptr<void, decltype([](void* h) { tjDestroy(h); })>;

Image decode_jpeg(std::span<const std::byte> bytes, std::int64_t max_pixels, const std::string& source) {
  const TjHandle tj(tjInitDecompress());
  if (!tj) throw Error(fmt::format("{}: cannot start the JPEG decoder: {}", source, tjGetErrorStr2(nullptr)));
  // TurboJPEG's API takes a non-const buffer but does not write to it.
  auto* data = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(bytes.data()));
  const auto size = static_cast<unsigned long>(bytes.size());
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  if (tjDecompressHeader3(tj.get(), data, size, &width, &height, &subsampling, &colorspace) != 0) {
    throw Error(fmt::format("{}: not a readable JPEG: {}", source, tjGetErrorStr2(tj.get())));
  }
  check_size(width, height, max_pixels, source);
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int channels = cmyk ? 4 : 3;
  std::vector<std::uint8_t> decoded(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * channels);
  if (tjDecompress2(tj.get(), data, size, decoded.data(), width, 0, height, cmyk ? TJPF_CMYK : TJPF_RGB, 0) != 0) {
    // libjpeg's warnings (extraneous bytes, a bad Huffman code it recovered from) leave a usable image,
    // as PIL accepts it; a file that ends early does not (PIL: "image file is truncated").
    const std::string_view why = tjGetErrorStr2(tj.get());
    if (tjGetErrorCode(tj.get()) != TJERR_WARNING || why.starts_with("Premature end")) {
      throw Error(fmt::format("{}: a corrupt JPEG: {}", source, why));
    }
  }
  if (!cmyk) return Image{.width = width, .height = height, .pixels = std::move(decoded)};
  Image image = blank(width, height);
  for (std::size_t p = 0, n = image.pixels.size() / 3; p < n; ++p) {
    const std::uint8_t* in = decoded.data() + 4 * p;
    for (std::size_t c = 0; c < 3; ++c) image.pixels[3 * p + c] = cmyk_channel(in[c], in[3]);
  }
  return image;
}

using SpngContext = std::unique_ptr<spng_ctx, decltype([](spng_ctx* c) { spng_ctx_free(c); })>;

Image decode_png(std::span<const std::byte> bytes, std::int64_t max_pixels, const std::string& source) {
  const SpngContext png(spng_ctx_new(0));
  if (!png) throw Error(fmt::format("{}: cannot start the PNG decoder", source));
  const auto fail = [&](std::string_view what, int code) {
    return Error(fmt::format("{}: {}: {}", source, what, spng_strerror(code)));
  };
  // No chunk, and no ancillary data in all, over 64 MB: a hostile file cannot make it cache more.
  spng_set_chunk_limits(png.get(), 1U << 26, 1U << 26);
  if (const int rc = spng_set_png_buffer(png.get(), bytes.data(), bytes.size()); rc != 0) {
    throw fail("not a readable PNG", rc);
  }
  spng_ihdr ihdr{};
  if (const int rc = spng_get_ihdr(png.get(), &ihdr); rc != 0) throw fail("not a readable PNG", rc);
  check_size(ihdr.width, ihdr.height, max_pixels, source);
  std::size_t size = 0;
  if (const int rc = spng_decoded_image_size(png.get(), SPNG_FMT_RGB8, &size); rc != 0) {
    throw fail("an unsupported PNG", rc);
  }
  Image image = blank(static_cast<int>(ihdr.width), static_cast<int>(ihdr.height));
  if (size != image.pixels.size()) throw Error(fmt::format("{}: unexpected decoded size {}", source, size));
  // SPNG_FMT_RGB8: grey replicated, palette looked up, alpha dropped, 16-bit samples to their high byte.
  if (const int rc = spng_decode_image(png.get(), image.pixels.data(), size, SPNG_FMT_RGB8, 0); rc != 0) {
    throw fail("a corrupt PNG", rc);
  }
  spng_exif exif{};
  if (spng_get_exif(png.get(), &exif) == 0 && exif.data != nullptr) {
    const int orientation = tiff_exif_orientation(std::as_bytes(std::span(exif.data, exif.length)));
    return apply_orientation(std::move(image), orientation);
  }
  return image;
}

}  // namespace

Image decode_image(std::span<const std::byte> bytes, const std::string& source, std::int64_t max_pixels) {
  if (starts_with(bytes, kJpegMagic))
    return apply_orientation(decode_jpeg(bytes, max_pixels, source), jpeg_exif_orientation(bytes));
  if (starts_with(bytes, kPngMagic)) return decode_png(bytes, max_pixels, source);
  throw Error(fmt::format("{}: not a JPEG or PNG image ({} bytes{})", source, bytes.size(),
                          bytes.empty() ? "" : " that start otherwise"));
}

Image decode_image_file(const std::filesystem::path& file) {
  const std::vector<std::byte> bytes = read_regular_file(file);
  return decode_image(bytes, file.string());
}

}  // namespace onnxpool
