// onnxpool_image_bench FOLDER|FILE... [--repeat R]: where the time of `run --images` goes per image,
// outside the pool: reading the file, decoding it (TurboJPEG / libspng, EXIF), and preprocessing it
// for a [1,3,224,224] float32 input (resize of the shorter side to 256, center crop, normalise).
// Each stage is timed over every image, R times (default 3), and the median pass is printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "onnxpool/pipeline/image.hpp"
#include "onnxpool/pipeline/image_source.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace onnxpool;
  std::vector<std::filesystem::path> paths;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      paths.emplace_back(arg);
    }
  }
  try {
    const auto images = list_images(paths);
    const ImageInput input{.name = "input",
                           .type = ElementType::Float,
                           .layout = ImageLayout::NCHW,
                           .shape = {1, 3, 224, 224},
                           .height = 224,
                           .width = 224};
    const Preprocessing how;
    std::vector<double> read_s;
    std::vector<double> decode_s;
    std::vector<double> preprocess_s;
    std::size_t bytes = 0;
    std::size_t pixels = 0;
    for (int r = 0; r < repeat; ++r) {
      std::vector<std::vector<std::byte>> files;
      files.reserve(images.size());
      auto start = Clock::now();
      for (const auto& image : images) files.push_back(read_file_bytes(image.path));
      read_s.push_back(seconds_since(start));
      std::vector<Image> decoded;
      decoded.reserve(files.size());
      start = Clock::now();
      for (std::size_t i = 0; i < files.size(); ++i) decoded.push_back(decode_image(files[i], images[i].name));
      decode_s.push_back(seconds_since(start));
      start = Clock::now();
      float checksum = 0.0F;
      for (const auto& image : decoded) checksum += preprocess_image(image, input, how).data<float>()[0];
      preprocess_s.push_back(seconds_since(start));
      if (checksum == 12345.0F) std::puts("");  // keeps the work from being optimised away
      bytes = 0;
      pixels = 0;
      for (std::size_t i = 0; i < files.size(); ++i) {
        bytes += files[i].size();
        pixels += static_cast<std::size_t>(decoded[i].width) * static_cast<std::size_t>(decoded[i].height);
      }
    }
    const double n = static_cast<double>(images.size());
    fmt::print("{} images, {:.0f} KB and {:.2f} megapixels on average; median of {} passes, one thread:\n",
               images.size(), static_cast<double>(bytes) / n / 1000.0, static_cast<double>(pixels) / n / 1e6, repeat);
    const double read = median(read_s) / n * 1e3;
    const double decode = median(decode_s) / n * 1e3;
    const double preprocess = median(preprocess_s) / n * 1e3;
    fmt::print("  read file   {:7.3f} ms/image\n", read);
    fmt::print("  decode      {:7.3f} ms/image\n", decode);
    fmt::print("  preprocess  {:7.3f} ms/image (resize shorter side to 256, crop 224, normalise, NCHW float32)\n",
               preprocess);
    fmt::print("  total       {:7.3f} ms/image: {:.0f} images/s on one core\n", read + decode + preprocess,
               1e3 / (read + decode + preprocess));
  } catch (const std::exception& e) {
    fmt::print(stderr, "onnxpool_image_bench: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
