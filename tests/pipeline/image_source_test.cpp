// ImageSource: items named by their paths, read one at a time when asked (a bad file fails only its
// item), the other inputs random or from files as RandomSource makes them, and refusals before any work.
#include "onnxpool/pipeline/image_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/errors.hpp"
#include "support/image_fixtures.hpp"
#include "support/model_paths.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test::error_of;

void touch(const std::filesystem::path& path, const std::string& text = "x") {
  std::ofstream(path) << text;
}

TEST(ListImages, AFolderGivesItsImagesByNameNotRecursingAndFilesComeAsGiven) {
  test::TempDir dir;
  for (const char* name : {"b.PNG", "a.jpg", "c.Jpeg", "notes.txt", "d.gif"}) touch(dir / name);
  std::filesystem::create_directory(dir / "sub");
  touch(dir / "sub" / "e.jpg");
  const auto images = list_images({dir.path(), dir / "notes.txt"});
  std::vector<std::string> names;
  for (const auto& image : images) names.push_back(image.name);
  EXPECT_THAT(names, ElementsAre("a.jpg", "b.PNG", "c.Jpeg", (dir / "notes.txt").string()));
  EXPECT_EQ(images.front().path, dir / "a.jpg");
  EXPECT_TRUE(is_image_path("x/y.JPG"));
  EXPECT_FALSE(is_image_path("x/y.jpg.npy"));
}

TEST(ListImages, NothingToReadIsAnError) {
  test::TempDir dir;
  touch(dir / "notes.txt");
  EXPECT_THAT(error_of([&] { static_cast<void>(list_images({dir.path()})); }), HasSubstr("no images"));
  EXPECT_THAT(error_of([&] { static_cast<void>(list_images({dir / "gone.jpg"})); }),
              HasSubstr("gone.jpg: no such file or folder"));
}

class ImageSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string lacks = test::python_lacks("numpy, PIL"); !lacks.empty()) GTEST_SKIP() << lacks;
    const auto made = test::run_python(dir, test::kImageFixturesScript);
    ASSERT_EQ(made.status, 0) << made.output;
  }
  Runtime runtime;
  test::TempDir dir;
};

TEST_F(ImageSourceTest, ItemsAreReadWhenAskedAndABadOneFailsAlone) {
  const ModelInfo model = inspect_model(runtime, model_path("image_identity_nhwc.onnx"));
  DimBindings bindings;
  bindings.bind_dim("height=30");
  bindings.bind_dim("width=40");
  ImageSource source(model, bindings,
                     {{.path = dir / "rgb.png", .name = "rgb.png"},
                      {.path = dir / "garbage.jpg", .name = "garbage.jpg"},
                      {.path = dir / "later.png", .name = "later.png"}},
                     Preprocessing{.plain_resize = true}, {}, 0);
  ASSERT_EQ(source.size(), 3U);
  EXPECT_EQ(source.name(1), "garbage.jpg");
  EXPECT_EQ(source.input().layout, ImageLayout::NHWC);
  // uint8 at the image's own size: the decoded pixels themselves.
  const TensorSet item = source.read(0);
  ASSERT_EQ(item.size(), 1U);
  EXPECT_EQ(item[0].name, "image");
  EXPECT_EQ(item[0].tensor.shape(), (Shape{1, 30, 40, 3}));
  const Tensor want = read_npy(dir / "rgb.png.expected.npy");
  EXPECT_TRUE(std::equal(want.bytes().begin(), want.bytes().end(), item[0].tensor.bytes().begin()));
  EXPECT_THAT(error_of([&] { static_cast<void>(source.read(1)); }), HasSubstr("garbage.jpg: not a JPEG or PNG"));
  // Not read before it is asked for: a file made after the source was is read.
  std::filesystem::copy_file(dir / "rgb.png", dir / "later.png");
  EXPECT_EQ(source.read(2)[0].tensor.shape(), (Shape{1, 30, 40, 3}));
}

TEST_F(ImageSourceTest, TheOtherInputsAreRandomOrFromFiles) {
  // A model of two inputs, only one image-like: the other is random (seeded by the item) or a file.
  ModelInfo model;
  model.inputs = {
      {.name = "pixels", .type = ElementType::Float, .shape = {{1, ""}, {3, ""}, {8, ""}, {8, ""}}, .index_limit = {}},
      {.name = "scale", .type = ElementType::Float, .shape = {{2, ""}}, .index_limit = {}}};
  const std::vector<ImageEntry> images{{.path = dir / "rgb.png", .name = "a"}, {.path = dir / "grey.png", .name = "b"}};
  ImageSource random(model, {}, images, {}, {}, 5);
  const TensorSet first = random.read(0);
  ASSERT_EQ(first.size(), 2U);
  EXPECT_EQ(first[0].name, "pixels");
  EXPECT_EQ(first[0].tensor.shape(), (Shape{1, 3, 8, 8}));
  EXPECT_EQ(first[1].name, "scale");
  // The values `run --random` gives it when the image input comes from a file (item i: seed + i).
  write_npy(dir / "pixels.npy", first[0].tensor);
  RandomSource same(model, {}, {{.input = "pixels", .file = dir / "pixels.npy"}}, 5, 1);
  const TensorSet expected_random = same.read(0);
  EXPECT_TRUE(std::equal(first[1].tensor.bytes().begin(), first[1].tensor.bytes().end(),
                         expected_random[1].tensor.bytes().begin()));

  Tensor scale(ElementType::Float, {2});
  scale.data<float>()[0] = 3.0F;
  scale.data<float>()[1] = 4.0F;
  write_npy(dir / "scale.npy", scale);
  ImageSource given(model, {}, images, {}, {{.input = "scale", .file = dir / "scale.npy"}}, 5);
  EXPECT_THAT(given.read(1)[1].tensor.data<float>(), ElementsAre(3.0F, 4.0F));
  EXPECT_THAT(
      error_of([&] { ImageSource(model, {}, images, {}, {{.input = "pixels", .file = dir / "scale.npy"}}, 5); }),
      HasSubstr("input 'pixels' takes the images and a file"));
}

TEST_F(ImageSourceTest, RefusesAModelWithoutAnImageInputBeforeReadingAny) {
  const ModelInfo model = inspect_model(runtime, model_path("add_mul.onnx"));
  EXPECT_THAT(error_of([&] { ImageSource(model, {}, {{.path = dir / "rgb.png", .name = "a"}}, {}, {}, 0); }),
              HasSubstr("none of the model's inputs"));
  const ModelInfo mobilenet = inspect_model(runtime, model_path("image_identity.onnx"));
  EXPECT_THAT(error_of([&] { ImageSource(mobilenet, {}, {}, {}, {}, 0); }), HasSubstr("no images"));
}

}  // namespace
}  // namespace onnxpool
