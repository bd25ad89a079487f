// Preprocessing on cases small enough to compute by hand: the resize's weights, torchvision's sizes and
// crop offsets, padding, channel order, normalisation, layouts and element types, and the choice of the
// model's image input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "onnxpool/pipeline/image.hpp"

namespace onnxpool {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

// An image whose pixels are given row by row as (R, G, B).
Image image_of(int width, int height, std::vector<std::uint8_t> pixels) {
  return Image{.width = width, .height = height, .pixels = std::move(pixels)};
}

// A grey image (R = G = B) from one row of values.
Image grey_row(std::vector<std::uint8_t> values) {
  Image image{.width = static_cast<int>(values.size()), .height = 1, .pixels = {}};
  for (const auto v : values) image.pixels.insert(image.pixels.end(), {v, v, v});
  return image;
}

std::vector<float> red_of(const FloatImage& image) {
  std::vector<float> red;
  for (std::size_t i = 0; i < image.samples.size(); i += 3) red.push_back(image.samples[i]);
  return red;
}

ImageInput input_of(ElementType type, ImageLayout layout, std::int64_t height, std::int64_t width) {
  ImageInput input{.name = "image", .type = type, .layout = layout, .shape = {}, .height = height, .width = width};
  input.shape = layout == ImageLayout::NCHW ? Shape{1, 3, height, width} : Shape{1, height, width, 3};
  return input;
}

TEST(ImageResize, ShrinkingWidensTheTriangleFilter) {
  // 4 -> 2: scale 2, the filter's support 2. Output 0 is centred at 1.0 in the input and reads inputs
  // 0, 1, 2 with triangle weights 0.75, 0.75, 0.25 (normalised by 1.75); output 1, centred at 3.0,
  // reads 1, 2, 3 with 0.25, 0.75, 0.75.
  const FloatImage out = resize_bilinear(grey_row({0, 100, 200, 40}), 2, 1);
  EXPECT_THAT(red_of(out), Pointwise(FloatNear(1e-4F), std::vector<float>{500.0F / 7, 820.0F / 7}));
}

TEST(ImageResize, EnlargingInterpolatesBetweenNeighbours) {
  // 2 -> 4: outputs centred at 0.25, 0.75, 1.25, 1.75; the edges clamp to the first and last input.
  const FloatImage out = resize_bilinear(grey_row({40, 200}), 4, 1);
  EXPECT_THAT(red_of(out), Pointwise(FloatNear(1e-4F), std::vector<float>{40, 80, 160, 200}));
}

TEST(ImageResize, SameSizeIsTheIdentityAndBothAxesAreFiltered) {
  const Image image = image_of(2, 2, {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120});
  const FloatImage same = resize_bilinear(image, 2, 2);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) EXPECT_FLOAT_EQ(same.samples[i], image.pixels[i]);
  // 2x2 -> 1x1: every pixel weighs the same.
  const FloatImage one = resize_bilinear(image, 1, 1);
  EXPECT_THAT(one.samples, Pointwise(FloatNear(1e-4F), std::vector<float>{55, 65, 75}));
}

TEST(ImageResize, TorchvisionSizesAndCropOffsets) {
  // Resize(256): the shorter side 256, the longer int(256 * long / short).
  EXPECT_THAT(shorter_side_size(640, 480, 256), ElementsAre(341, 256));
  EXPECT_THAT(shorter_side_size(480, 640, 256), ElementsAre(256, 341));
  EXPECT_THAT(shorter_side_size(500, 500, 256), ElementsAre(256, 256));
  EXPECT_THAT(shorter_side_size(100, 1000, 256), ElementsAre(256, 2560));
  // CenterCrop(224): int(round((extent - 224) / 2)), halves to even; padding when the crop is larger.
  EXPECT_EQ(center_crop_offset(256, 224), 16);
  EXPECT_EQ(center_crop_offset(257, 224), 16);  // round(16.5) = 16
  EXPECT_EQ(center_crop_offset(259, 224), 18);  // round(17.5) = 18
  EXPECT_EQ(center_crop_offset(224, 224), 0);
  EXPECT_EQ(center_crop_offset(200, 224), -12);
  EXPECT_EQ(center_crop_offset(201, 224), -11);  // 23 columns of padding: 11 before, 12 after
  // The default S: round(max(H, W) / 0.875).
  EXPECT_EQ(Preprocessing{}.shorter_side_for(224, 224), 256);
  EXPECT_EQ(Preprocessing{}.shorter_side_for(299, 299), 342);
  EXPECT_EQ((Preprocessing{.shorter_side = 300}).shorter_side_for(224, 224), 300);
}

TEST(ImagePreprocess, FloatNchwIsNormalisedPerChannel) {
  const Image image = image_of(2, 1, {0, 51, 255, 102, 153, 204});
  const Preprocessing how{
      .shorter_side = 0, .plain_resize = true, .bgr = false, .mean = {0.5F, 0.25F, 0.0F}, .std = {0.5F, 0.25F, 2.0F}};
  const Tensor t = preprocess_image(image, input_of(ElementType::Float, ImageLayout::NCHW, 1, 2), how);
  EXPECT_EQ(t.shape(), (Shape{1, 3, 1, 2}));
  // Plane R: (0/255 - 0.5)/0.5, (102/255 - 0.5)/0.5; plane G: (0.2 - 0.25)/0.25, (0.6 - 0.25)/0.25;
  // plane B: 1/2, 0.8/2.
  EXPECT_THAT(t.data<float>(), Pointwise(FloatNear(1e-6F), std::vector<float>{-1.0F, -0.2F, -0.2F, 1.4F, 0.5F, 0.4F}));
}

TEST(ImagePreprocess, ImageNetMeanAndStdByDefault) {
  const Image image = image_of(1, 1, {255, 0, 128});
  const Tensor t = preprocess_image(image, input_of(ElementType::Float, ImageLayout::NCHW, 1, 1),
                                    Preprocessing{.plain_resize = true});
  EXPECT_THAT(t.data<float>(),
              Pointwise(FloatNear(1e-5F), std::vector<float>{(1.0F - 0.485F) / 0.229F, (0.0F - 0.456F) / 0.224F,
                                                             (128.0F / 255 - 0.406F) / 0.225F}));
}

TEST(ImagePreprocess, Uint8NhwcBgrGetsTheRawPixelsReordered) {
  const Image image = image_of(2, 1, {1, 2, 3, 4, 5, 6});
  const Tensor t = preprocess_image(image, input_of(ElementType::UInt8, ImageLayout::NHWC, 1, 2),
                                    Preprocessing{.plain_resize = true, .bgr = true});
  EXPECT_EQ(t.shape(), (Shape{1, 1, 2, 3}));
  EXPECT_THAT(t.data<std::uint8_t>(), ElementsAre(3, 2, 1, 6, 5, 4));
  // NCHW, RGB: planes.
  const Tensor planes = preprocess_image(image, input_of(ElementType::UInt8, ImageLayout::NCHW, 1, 2),
                                         Preprocessing{.plain_resize = true});
  EXPECT_THAT(planes.data<std::uint8_t>(), ElementsAre(1, 4, 2, 5, 3, 6));
}

TEST(ImagePreprocess, Float16HoldsTheSameValues) {
  const Image image = image_of(1, 1, {0, 255, 51});
  const Preprocessing how{.plain_resize = true, .mean = {0.0F, 0.0F, 0.0F}, .std = {1.0F, 1.0F, 1.0F}};
  const Tensor t = preprocess_image(image, input_of(ElementType::Float16, ImageLayout::NHWC, 1, 1), how);
  const auto halves = t.data<std::uint16_t>();
  EXPECT_FLOAT_EQ(half_to_float(halves[0]), 0.0F);
  EXPECT_FLOAT_EQ(half_to_float(halves[1]), 1.0F);
  EXPECT_NEAR(half_to_float(halves[2]), 0.2F, 1e-3F);
}

TEST(ImagePreprocess, ShorterSideThenCenterCrop) {
  // 4 wide, 2 tall, S = 2: no resize (already 2 high), the crop of width 2 starts at column 1.
  const Image image = image_of(4, 2, {0,  0,  0,  10, 11, 12, 20, 21, 22, 30, 31, 32,    // row 0
                                      40, 41, 42, 50, 51, 52, 60, 61, 62, 70, 71, 72});  // row 1
  const Tensor t =
      preprocess_image(image, input_of(ElementType::UInt8, ImageLayout::NHWC, 2, 2), Preprocessing{.shorter_side = 2});
  EXPECT_THAT(t.data<std::uint8_t>(), ElementsAre(10, 11, 12, 20, 21, 22, 50, 51, 52, 60, 61, 62));
  // A plain resize takes the whole width instead, 4 -> 2 with the weights 3/7, 3/7, 1/7 (columns 0-2)
  // and 1/7, 3/7, 3/7 (columns 1-3): row 0's red (0*3 + 10*3 + 20)/7 = 7.1 and (10 + 20*3 + 30*3)/7 = 22.9.
  const Tensor squeezed = preprocess_image(image, input_of(ElementType::UInt8, ImageLayout::NHWC, 2, 2),
                                           Preprocessing{.plain_resize = true});
  EXPECT_THAT(squeezed.data<std::uint8_t>(), ElementsAre(7, 8, 8, 23, 24, 25, 47, 48, 49, 63, 64, 65));
}

TEST(ImagePreprocess, ACropWiderThanTheImageIsPaddedWithZeros) {
  // 2x2 image, input 2 high and 4 wide, S = 2: one column of zeros on each side, as torchvision pads.
  const Image image = image_of(2, 2, {1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
  const Tensor t =
      preprocess_image(image, input_of(ElementType::UInt8, ImageLayout::NCHW, 2, 4), Preprocessing{.shorter_side = 2});
  const auto red = t.data<std::uint8_t>().subspan(0, 8);
  EXPECT_THAT(red, ElementsAre(0, 1, 2, 0, 0, 3, 4, 0));
  const Tensor f =
      preprocess_image(image, input_of(ElementType::Float, ImageLayout::NCHW, 2, 4), Preprocessing{.shorter_side = 2});
  EXPECT_NEAR(f.data<float>()[0], -0.485F / 0.229F, 1e-6F);  // a padded pixel is 0 before normalising
}

TEST(ImagePreprocess, RefusesAZeroStd) {
  EXPECT_THROW((Preprocessing{.std = {1.0F, 0.0F, 1.0F}}).validate(), Error);
  EXPECT_NO_THROW(Preprocessing{}.validate());
}

// A model input: its type and dims, "name" for a symbolic dim, a number for a fixed one.
ValueInfo value(const std::string& name, ElementType type, std::vector<std::string> dims) {
  ValueInfo info{.name = name, .type = type, .shape = {}, .index_limit = std::nullopt};
  for (const auto& d : dims) {
    if (!d.empty() && std::isdigit(static_cast<unsigned char>(d.front())) != 0) {
      info.shape.push_back(Dim{.value = std::stoll(d), .symbol = ""});
    } else {
      info.shape.push_back(Dim{.value = -1, .symbol = d});
    }
  }
  return info;
}

ModelInfo model_of(std::vector<ValueInfo> inputs) {
  ModelInfo model;
  model.inputs = std::move(inputs);
  return model;
}

TEST(ImageInputChoice, LayoutAndSizeFromTheShape) {
  const ImageInput nchw = find_image_input(model_of({value("x", ElementType::Float, {"N", "3", "224", "224"})}), {});
  EXPECT_EQ(nchw.layout, ImageLayout::NCHW);
  EXPECT_EQ(nchw.shape, (Shape{1, 3, 224, 224}));
  const ImageInput nhwc = find_image_input(model_of({value("x", ElementType::UInt8, {"batch", "h", "w", "3"})}), {});
  EXPECT_EQ(nhwc.layout, ImageLayout::NHWC);
  EXPECT_EQ(nhwc.shape, (Shape{1, 224, 224, 3}));  // open H and W: 224
  DimBindings bindings;
  bindings.bind_dim("h=100");
  bindings.bind_dim("w=50");
  const ImageInput bound = find_image_input(model_of({value("x", ElementType::Float16, {"3", "h", "w"})}), bindings);
  EXPECT_EQ(bound.shape, (Shape{3, 100, 50}));
  EXPECT_EQ(bound.height, 100);
  EXPECT_EQ(bound.width, 50);
}

TEST(ImageInputChoice, TheOneImageLikeInputAmongSeveral) {
  const ModelInfo model = model_of(
      {value("scale", ElementType::Float, {"1"}), value("pixels", ElementType::Float, {"1", "3", "32", "32"})});
  EXPECT_EQ(find_image_input(model, {}).name, "pixels");
}

TEST(ImageInputChoice, ErrorsNameTheInputs) {
  const auto message = [](const ModelInfo& model) {
    try {
      static_cast<void>(find_image_input(model, {}));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_THAT(message(model_of({value("ids", ElementType::Int64, {"batch", "seq"})})),
              HasSubstr("input 'ids' [batch,seq] cannot take an image: its element type is int64"));
  EXPECT_THAT(message(model_of({value("x", ElementType::Float, {"1", "4", "8", "8"})})),
              HasSubstr("no dim holds the 3 colour channels"));
  EXPECT_THAT(message(model_of({value("x", ElementType::Float, {"8", "3", "8", "8"})})), HasSubstr("batch dim is 8"));
  EXPECT_THAT(message(model_of({value("a", ElementType::Float, {"1", "3", "8", "8"}),
                                value("b", ElementType::Float, {"1", "3", "8", "8"})})),
              HasSubstr("several of the model's inputs could take the image ('a', 'b')"));
  EXPECT_THAT(message(model_of({value("a", ElementType::Int64, {"1"}), value("b", ElementType::Float, {"2", "2"})})),
              HasSubstr("none of the model's inputs ('a' int64 [1], 'b' float32 [2,2]) can take an image"));
}

}  // namespace
}  // namespace onnxpool
