// Decoding JPEG and PNG to upright 8-bit RGB: every kind of image against what PIL decodes it to, the
// EXIF orientations against a hand-made pattern, and one clear line for each file that cannot be read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "onnxpool/pipeline/image.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/image_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// One set of fixtures for the whole file (PIL takes a second to write them).
class ImageDecode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (const std::string lacks = test::python_lacks("numpy, PIL"); !lacks.empty()) {
      skip_ = lacks;
      return;
    }
    dir_ = new test::TempDir();
    const auto result = test::run_python(*dir_, test::kImageFixturesScript);
    ASSERT_EQ(result.status, 0) << result.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }
  static std::filesystem::path file(const std::string& name) { return *dir_ / name; }
  // PIL's pixels for `name`, [H,W,3].
  static Tensor expected(const std::string& name) { return read_npy(file(name + ".expected.npy")); }
  // The largest difference between our decode and PIL's, after checking the sizes agree.
  static int max_difference(const Image& image, const Tensor& want) {
    EXPECT_EQ(want.shape(), (Shape{image.height, image.width, 3}));
    if (want.shape() != Shape{image.height, image.width, 3}) return 256;
    const auto pixels = want.data<std::uint8_t>();
    int worst = 0;
    for (std::size_t i = 0; i < pixels.size(); ++i) worst = std::max(worst, std::abs(pixels[i] - image.pixels[i]));
    return worst;
  }
  static std::string error_of(const std::string& name) {
    try {
      static_cast<void>(decode_image_file(file(name)));
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }

  static inline test::TempDir* dir_ = nullptr;
  static inline std::string skip_;
};

TEST_F(ImageDecode, PngOfEveryKindDecodesAsPilDoesExactly) {
  // Grey replicated, 1-bit grey to 0/255, palette looked up, alpha dropped, 16 bits to the high byte.
  for (const char* name :
       {"rgb.png", "grey.png", "grey1.png", "palette.png", "la.png", "rgba.png", "grey16.png", "rgb16.png"}) {
    SCOPED_TRACE(name);
    const Image image = decode_image_file(file(name));
    EXPECT_EQ(image.width, 40);
    EXPECT_EQ(image.height, 30);
    EXPECT_EQ(max_difference(image, expected(name)), 0);
  }
}

TEST_F(ImageDecode, GreyIsReplicatedAndSixteenBitsKeepTheHighByte) {
  const Image grey = decode_image_file(file("grey.png"));
  // The fixture's grey is x * 6 at column x.
  EXPECT_EQ(grey.at(5, 7)[0], 30);
  EXPECT_EQ(grey.at(5, 7)[1], 30);
  EXPECT_EQ(grey.at(5, 7)[2], 30);
  // rgb16 holds v * 257 + 3 for the 8-bit v of rgb.png: its high byte is v again.
  const Image rgb16 = decode_image_file(file("rgb16.png"));
  const Image rgb = decode_image_file(file("rgb.png"));
  EXPECT_EQ(rgb16.pixels, rgb.pixels);
}

TEST_F(ImageDecode, JpegOfEveryKindDecodesAsPilDoes) {
  // The same libjpeg-turbo under both (PIL through libjpeg62-turbo, here through TurboJPEG), with the
  // same defaults (accurate integer IDCT, smooth chroma upsampling): the same pixels.
  for (const char* name : {"rgb.jpg", "grey.jpg", "cmyk.jpg"}) {
    SCOPED_TRACE(name);
    const Image image = decode_image_file(file(name));
    EXPECT_EQ(max_difference(image, expected(name)), 0);
  }
}

TEST_F(ImageDecode, CmykJpegFollowsAdobesInvertedConvention) {
  // PIL's convert("CMYK") of a light pixel gives low C, M, Y; stored inverted and converted back, the
  // colours come back close to the original's (JPEG is lossy: within a few levels).
  const Image cmyk = decode_image_file(file("cmyk.jpg"));
  const Image rgb = decode_image_file(file("rgb.png"));
  int worst = 0;
  for (std::size_t i = 0; i < rgb.pixels.size(); ++i) worst = std::max(worst, std::abs(cmyk.pixels[i] - rgb.pixels[i]));
  EXPECT_LE(worst, 12);
}

TEST_F(ImageDecode, YcckJpegDecodesAsPilDoes) {
  // TurboJPEG writes a CMYK source as YCCK (with Adobe's marker, transform 2). The CMYK values are the
  // stored, inverted ones: C' = 255 - cyan ink. Top half: no ink but cyan (C' = 0, K' = 255) -> cyan
  // (R = 0, G = B = 255); bottom half: K' = 128, no colour ink -> grey 128.
  const int width = 32;
  const int height = 16;
  std::vector<unsigned char> cmyk(static_cast<std::size_t>(width * height * 4));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      unsigned char* p = cmyk.data() + static_cast<std::size_t>((y * width + x) * 4);
      const bool top = y < height / 2;
      p[0] = top ? 0 : 255;
      p[1] = 255;
      p[2] = 255;
      p[3] = top ? 255 : 128;
    }
  }
  void* tj = tjInitCompress();
  ASSERT_NE(tj, nullptr);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  ASSERT_EQ(tjCompress2(tj, cmyk.data(), width, 0, height, TJPF_CMYK, &jpeg, &size, TJSAMP_444, 100, 0), 0)
      << tjGetErrorStr2(tj);
  tjDestroy(tj);
  void* reader = tjInitDecompress();
  int w = 0;
  int h = 0;
  int subsampling = 0;
  int colorspace = -1;
  ASSERT_EQ(tjDecompressHeader3(reader, jpeg, size, &w, &h, &subsampling, &colorspace), 0);
  tjDestroy(reader);
  EXPECT_EQ(colorspace, TJCS_YCCK);
  {
    std::ofstream out(file("ycck.jpg"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(jpeg), static_cast<std::streamsize>(size));
  }
  tjFree(jpeg);
  const auto pil = test::run_python(*dir_,
                                    "import numpy as np\nfrom PIL import Image\nim = Image.open('ycck.jpg')\n"
                                    "assert im.mode == 'CMYK', im.mode\n"
                                    "np.save('ycck.jpg.expected.npy', np.asarray(im.convert('RGB')))\n");
  ASSERT_EQ(pil.status, 0) << pil.output;
  const Image image = decode_image_file(file("ycck.jpg"));
  EXPECT_EQ(max_difference(image, expected("ycck.jpg")), 0);
  EXPECT_NEAR(image.at(3, 2)[0], 0, 2);
  EXPECT_NEAR(image.at(3, 2)[1], 255, 2);
  EXPECT_NEAR(image.at(3, 2)[2], 255, 2);
  EXPECT_NEAR(image.at(3, 13)[0], 128, 2);
  EXPECT_NEAR(image.at(3, 13)[2], 128, 2);
}

TEST_F(ImageDecode, EveryExifOrientationEndsUpright) {
  const Tensor base_tensor = read_npy(file("base.npy"));  // [3,4,3]: 4 wide, 3 tall
  const auto base = base_tensor.data<std::uint8_t>();
  const auto at = [&](int x, int y, int c) { return base[static_cast<std::size_t>((y * 4 + x) * 3 + c)]; };
  for (int k = 1; k <= 8; ++k) {
    SCOPED_TRACE(k);
    const std::string png = "orient" + std::to_string(k) + ".png";
    const Image image = decode_image_file(file(png));
    EXPECT_EQ(max_difference(image, expected(png)), 0);
    // By hand: 5-8 are quarter turns (3 wide, 4 tall); where the base's top-left pixel lands.
    EXPECT_EQ(image.width, k >= 5 ? 3 : 4);
    EXPECT_EQ(image.height, k >= 5 ? 4 : 3);
    const int right = image.width - 1;
    const int bottom = image.height - 1;
    const std::uint8_t* corner = nullptr;
    switch (k) {
      case 1:
        corner = image.at(0, 0);
        break;  // as stored
      case 2:
        corner = image.at(right, 0);
        break;  // mirrored left-right
      case 3:
        corner = image.at(right, bottom);
        break;  // turned 180
      case 4:
        corner = image.at(0, bottom);
        break;  // mirrored top-bottom
      case 5:
        corner = image.at(0, 0);
        break;  // transposed
      case 6:
        corner = image.at(right, 0);
        break;  // a quarter turn clockwise
      case 7:
        corner = image.at(right, bottom);
        break;  // transversed
      default:
        corner = image.at(0, bottom);
        break;  // a quarter turn counter-clockwise
    }
    EXPECT_EQ(corner[0], at(0, 0, 0));
    EXPECT_EQ(corner[1], at(0, 0, 1));
    EXPECT_EQ(corner[2], at(0, 0, 2));
    const std::string jpg = "orient" + std::to_string(k) + ".jpg";
    EXPECT_EQ(max_difference(decode_image_file(file(jpg)), expected(jpg)), 0);
  }
  // A quarter turn clockwise (6): the base's bottom-left pixel comes to the top-left.
  const Image six = decode_image_file(file("orient6.png"));
  EXPECT_EQ(six.at(0, 0)[1], at(0, 2, 1));
}

TEST_F(ImageDecode, BadFilesGiveOneLineNamingTheFile) {
  const std::pair<const char*, const char*> cases[] = {{"truncated.jpg", "a corrupt JPEG: Premature end"},
                                                       {"headless.jpg", "a corrupt image"},
                                                       {"truncated.png", "corrupt PNG"},
                                                       {"garbage.jpg", "not a JPEG or PNG"},
                                                       {"empty.png", "not a JPEG or PNG"},
                                                       {"huge.png", "100000x100000 pixels, more than the 100000000"},
                                                       {"huge.jpg", "65000x65000 pixels, more than the 100000000"}};
  for (const auto& [name, why] : cases) {
    SCOPED_TRACE(name);
    const std::string message = error_of(name);
    EXPECT_THAT(message, StartsWith(file(name).string() + ": "));
    EXPECT_THAT(message, HasSubstr(why));
    EXPECT_THAT(message, Not(HasSubstr("\n")));
  }
  EXPECT_THAT(error_of("missing.png"), HasSubstr("missing.png"));
}

TEST_F(ImageDecode, ACallerMayLowerThePixelLimit) {
  // image_fuzz bounds what one input costs this way: a 700-byte CMYK JPEG declaring 10000x10000 pixels
  // (corpus/image/regress-cmyk-10000x10000) decodes, by design, and took 16 s under ASan.
  for (const char* name : {"rgb.png", "cmyk.jpg"}) {
    SCOPED_TRACE(name);
    const auto bytes = read_file_bytes(file(name));
    const Image image = decode_image(bytes, name);
    const std::int64_t pixels = std::int64_t{image.width} * image.height;
    EXPECT_EQ(decode_image(bytes, name, pixels).pixels, image.pixels);
    try {
      static_cast<void>(decode_image(bytes, name, pixels - 1));
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::to_string(pixels - 1) + " accepted"));
    }
  }
}

}  // namespace
}  // namespace onnxpool
