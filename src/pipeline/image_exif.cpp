// The EXIF orientation of an image (read by Debian's libexif) and turning the pixels upright, as PIL's
// ImageOps.exif_transpose does. The pixel moves are a few lines of index arithmetic: no Debian package
// offers them apart from a whole image library.
#include <libexif/exif-data.h>

#include <memory>
#include <vector>

#include "onnxpool/pipeline/image.hpp"

namespace onnxpool {
namespace {

using ExifHandle = std::unique_ptr<ExifData, decltype([](ExifData* d) { exif_data_unref(d); })>;

// libexif reads a JPEG (it finds the APP1 "Exif" segment itself) or data starting with "Exif\0\0".
int orientation_of(const unsigned char* data, std::size_t size) {
  const ExifHandle exif(exif_data_new());
  if (!exif) return 1;
  // Only reading one tag: no checking or fixing of the rest, no maker notes.
  exif_data_unset_option(exif.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_set_option(exif.get(), EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
  exif_data_load_data(exif.get(), data, static_cast<unsigned int>(size));
  ExifEntry* entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (entry == nullptr || entry->format != EXIF_FORMAT_SHORT || entry->components < 1 || entry->size < 2) return 1;
  const int value = exif_get_short(entry->data, exif_data_get_byte_order(exif.get()));
  return value >= 1 && value <= 8 ? value : 1;
}

}  // namespace

int jpeg_exif_orientation(std::span<const std::byte> jpeg) {
  if (jpeg.size() > 0xFFFF'FFFFU) return 1;
  return orientation_of(reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size());
}

int tiff_exif_orientation(std::span<const std::byte> tiff) {
  if (tiff.size() > 0xFFFF'0000U) return 1;
  std::vector<unsigned char> data{'E', 'x', 'i', 'f', 0, 0};
  const auto* bytes = reinterpret_cast<const unsigned char*>(tiff.data());
  data.insert(data.end(), bytes, bytes + tiff.size());
  return orientation_of(data.data(), data.size());
}

Image apply_orientation(Image image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const int w = image.width;
  const int h = image.height;
  const bool swaps = orientation >= 5;  // 5-8 turn by a quarter: width and height trade places
  Image out{.width = swaps ? h : w, .height = swaps ? w : h, .pixels = std::vector<std::uint8_t>(image.pixels.size())};
  // Where output pixel (x, y) comes from, for each orientation (PIL's transpose methods).
  const auto source = [&](int x, int y) -> const std::uint8_t* {
    switch (orientation) {
      case 2:
        return image.at(w - 1 - x, y);  // FLIP_LEFT_RIGHT
      case 3:
        return image.at(w - 1 - x, h - 1 - y);  // ROTATE_180
      case 4:
        return image.at(x, h - 1 - y);  // FLIP_TOP_BOTTOM
      case 5:
        return image.at(y, x);  // TRANSPOSE
      case 6:
        return image.at(y, h - 1 - x);  // ROTATE_270 (a quarter turn clockwise)
      case 7:
        return image.at(w - 1 - y, h - 1 - x);  // TRANSVERSE
      default:
        return image.at(w - 1 - y, x);  // 8: ROTATE_90 (a quarter turn counter-clockwise)
    }
  };
  std::uint8_t* to = out.pixels.data();
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x, to += 3) {
      const std::uint8_t* from = source(x, y);
      to[0] = from[0];
      to[1] = from[1];
      to[2] = from[2];
    }
  }
  return out;
}

}  // namespace onnxpool
