// Preprocessing of a decoded image for a model's image input (steps 1-5 of image.hpp).
// The resize is written here by hand: PIL's antialiased bilinear filter is what torchvision-trained
// models expect, and no light Debian package offers it (libswscale's and OpenCV's bilinear do not widen
// their support when shrinking; libvips would be a second image library for one function).
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "onnxpool/pipeline/image.hpp"

namespace onnxpool {
namespace {

// The bilinear (triangle) filter of support 1.
double triangle(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// For each output index in [first, first + count) of a resize from `in_size` to `out_size` samples:
// the first input index it reads, how many, and their weights (summing to 1). PIL's precompute_coeffs:
// output index i is centred at (i + 0.5) * scale in the input; the filter is stretched by the scale
// when shrinking (scale > 1), so that every input sample contributes.
struct Taps {
  std::vector<int> start;
  std::vector<int> size;
  std::vector<float> weights;  // `stride` per output index
  int stride = 0;
};

Taps make_taps(int in_size, int out_size, int first, int count) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support (1) stretched
  Taps taps;
  taps.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.start.resize(static_cast<std::size_t>(count));
  taps.size.resize(static_cast<std::size_t>(count));
  taps.weights.assign(static_cast<std::size_t>(count) * static_cast<std::size_t>(taps.stride), 0.0F);
  std::vector<double> w(static_cast<std::size_t>(taps.stride));
  for (int k = 0; k < count; ++k) {
    const double center = (first + k + 0.5) * scale;
    // Truncated toward zero, as PIL's C casts do, then clamped to the input.
    const int lo = std::max(static_cast<int>(std::trunc(center - support + 0.5)), 0);
    const int hi = std::min(static_cast<int>(std::trunc(center + support + 0.5)), in_size);
    const int n = std::min(hi - lo, taps.stride);
    double total = 0.0;
    for (int j = 0; j < n; ++j) {
      w[static_cast<std::size_t>(j)] = triangle((j + lo - center + 0.5) / filter_scale);
      total += w[static_cast<std::size_t>(j)];
    }
    taps.start[static_cast<std::size_t>(k)] = lo;
    taps.size[static_cast<std::size_t>(k)] = n;
    float* out = taps.weights.data() + static_cast<std::size_t>(k) * static_cast<std::size_t>(taps.stride);
    for (int j = 0; j < n; ++j) {
      out[j] = static_cast<float>(total != 0.0 ? w[static_cast<std::size_t>(j)] / total : 0.0);
    }
  }
  return taps;
}

// The region [x0, x0 + cw) x [y0, y0 + ch) (inside the resized image) of `image` resized to
// width x height: horizontal pass first, then vertical, as PIL does, in float. Only what the region
// needs is computed (a center crop of a large image costs the crop, not the whole resized image).
FloatImage resize_region(const Image& image, int width, int height, int x0, int y0, int cw, int ch) {
  const Taps across = make_taps(image.width, width, x0, cw);
  const Taps down = make_taps(image.height, height, y0, ch);
  // The input rows the region's vertical taps read.
  const int row_first = down.start.empty() ? 0 : down.start.front();
  const int row_end = down.start.empty() ? 0 : down.start.back() + down.size.back();
  const auto cw_n = static_cast<std::size_t>(cw);
  std::vector<float> rows(static_cast<std::size_t>(row_end - row_first) * cw_n * 3);
  for (int y = row_first; y < row_end; ++y) {
    float* out = rows.data() + static_cast<std::size_t>(y - row_first) * cw_n * 3;
    for (std::size_t k = 0; k < cw_n; ++k, out += 3) {
      const float* w = across.weights.data() + k * static_cast<std::size_t>(across.stride);
      const std::uint8_t* in = image.at(across.start[k], y);
      float r = 0.0F;
      float g = 0.0F;
      float b = 0.0F;
      for (int j = 0; j < across.size[k]; ++j, in += 3) {
        r += w[j] * static_cast<float>(in[0]);
        g += w[j] * static_cast<float>(in[1]);
        b += w[j] * static_cast<float>(in[2]);
      }
      out[0] = r;
      out[1] = g;
      out[2] = b;
    }
  }
  FloatImage region{.width = cw, .height = ch, .samples = std::vector<float>(cw_n * static_cast<std::size_t>(ch) * 3)};
  const std::size_t row_floats = cw_n * 3;
  for (std::size_t k = 0; k < static_cast<std::size_t>(ch); ++k) {
    float* out = region.samples.data() + k * row_floats;
    const float* w = down.weights.data() + k * static_cast<std::size_t>(down.stride);
    for (int j = 0; j < down.size[k]; ++j) {
      const float* in = rows.data() + static_cast<std::size_t>(down.start[k] + j - row_first) * row_floats;
      for (std::size_t i = 0; i < row_floats; ++i) out[i] += w[j] * in[i];
    }
  }
  return region;
}

// A C-style cast would accept a size too large for an int; the sizes here come from files and flags.
int checked_side(std::int64_t value, std::string_view what) {
  if (value < 1 || value > std::numeric_limits<int>::max() / 4) {
    throw Error(fmt::format("the {} would be {} pixels", what, value));
  }
  return static_cast<int>(value);
}

}  // namespace

void Preprocessing::validate() const {
  if (shorter_side < 0 || shorter_side > 65535) {
    throw Error(fmt::format("shorter side {}: expected 1 to 65535 pixels", shorter_side));
  }
  for (const float s : std) {
    if (!(std::abs(s) > 0.0F) || !std::isfinite(s)) throw Error(fmt::format("std {}: must be finite and not 0", s));
  }
  for (const float m : mean) {
    if (!std::isfinite(m)) throw Error(fmt::format("mean {}: must be finite", m));
  }
}

std::int64_t Preprocessing::shorter_side_for(std::int64_t height, std::int64_t width) const {
  if (shorter_side > 0) return shorter_side;
  return std::llround(static_cast<double>(std::max(height, width)) / 0.875);
}

std::array<int, 2> shorter_side_size(int width, int height, std::int64_t shorter_side) {
  // torchvision's Resize(S): int(S * long / short), a true division then truncation.
  const bool portrait = width <= height;
  const std::int64_t shorter = portrait ? width : height;
  const std::int64_t longer = portrait ? height : width;
  const auto scaled =
      static_cast<std::int64_t>(static_cast<double>(shorter_side * longer) / static_cast<double>(shorter));
  const int s = checked_side(shorter_side, "shorter side");
  const int l = checked_side(scaled, "resized longer side");
  return portrait ? std::array<int, 2>{s, l} : std::array<int, 2>{l, s};
}

std::int64_t center_crop_offset(std::int64_t extent, std::int64_t size) {
  if (size > extent) return -((size - extent) / 2);  // padded: torchvision puts the odd pixel at the end
  // int(round((extent - size) / 2)), Python's round taking halves to the even neighbour.
  const std::int64_t d = extent - size;
  const std::int64_t half = d / 2;
  if (d % 2 == 0) return half;
  return half % 2 == 0 ? half : half + 1;
}

FloatImage resize_bilinear(const Image& image, int width, int height) {
  return resize_region(image, width, height, 0, 0, width, height);
}

Tensor preprocess_image(const Image& image, const ImageInput& input, const Preprocessing& how) {
  const int out_h = checked_side(input.height, "input height");
  const int out_w = checked_side(input.width, "input width");
  // Step 1 and 2: the resized size, and where the crop lies in it (the whole of it for a plain resize).
  std::array<int, 2> size{out_w, out_h};
  if (!how.plain_resize) size = shorter_side_size(image.width, image.height, how.shorter_side_for(out_h, out_w));
  const auto left = center_crop_offset(size[0], out_w);
  const auto top = center_crop_offset(size[1], out_h);
  // The part of the crop that lies inside the resized image; the rest is padding (zeros).
  const int x0 = static_cast<int>(std::max<std::int64_t>(left, 0));
  const int y0 = static_cast<int>(std::max<std::int64_t>(top, 0));
  const int x1 = static_cast<int>(std::min<std::int64_t>(left + out_w, size[0]));
  const int y1 = static_cast<int>(std::min<std::int64_t>(top + out_h, size[1]));
  const FloatImage region = resize_region(image, size[0], size[1], x0, y0, x1 - x0, y1 - y0);
  const auto pad_x = static_cast<int>(x0 - left);
  const auto pad_y = static_cast<int>(y0 - top);

  // Steps 3-5: channel order, values, layout.
  Tensor tensor(input.type, input.shape);
  const std::size_t plane = static_cast<std::size_t>(out_h) * static_cast<std::size_t>(out_w);
  const bool nchw = input.layout == ImageLayout::NCHW;
  std::array<float, 3> scale{};
  std::array<float, 3> shift{};
  for (std::size_t c = 0; c < 3; ++c) {
    scale[c] = 1.0F / (255.0F * how.std[c]);
    shift[c] = how.mean[c] / how.std[c];
  }
  const auto store = [&](auto* out, auto convert) {
    for (int y = 0; y < out_h; ++y) {
      const int ry = y - pad_y;
      for (int x = 0; x < out_w; ++x) {
        const int rx = x - pad_x;
        const bool inside = ry >= 0 && ry < region.height && rx >= 0 && rx < region.width;
        const float* rgb =
            inside ? region.samples.data() + (static_cast<std::size_t>(ry) * static_cast<std::size_t>(region.width) +
                                              static_cast<std::size_t>(rx)) *
                                                 3
                   : nullptr;
        const std::size_t pixel =
            static_cast<std::size_t>(y) * static_cast<std::size_t>(out_w) + static_cast<std::size_t>(x);
        for (std::size_t c = 0; c < 3; ++c) {
          const std::size_t from = how.bgr ? 2 - c : c;  // the RGB channel that goes to position c
          const float value = inside ? rgb[from] : 0.0F;
          out[nchw ? c * plane + pixel : pixel * 3 + c] = convert(value, from);
        }
      }
    }
  };
  switch (input.type) {
    case ElementType::UInt8:
      store(tensor.data<std::uint8_t>().data(),
            [](float v, std::size_t) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); });
      break;
    case ElementType::Float:
      store(tensor.data<float>().data(), [&](float v, std::size_t c) { return v * scale[c] - shift[c]; });
      break;
    case ElementType::Float16:
      store(tensor.data<std::uint16_t>().data(),
            [&](float v, std::size_t c) { return float_to_half(v * scale[c] - shift[c]); });
      break;
    default:
      throw Error(fmt::format("input '{}': cannot make {} pixels (float32, float16 or uint8)", input.name,
                              element_type_name(input.type)));
  }
  return tensor;
}

}  // namespace onnxpool
