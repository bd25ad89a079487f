// Sources: memory-mapped arrays give each item its rows (the other inputs random as before), refuse what
// would fail every item before any work, and fail fast on special files.
#include "onnxpool/pipeline/source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <cctype>
#include <fstream>

#include <algorithm>
#include <cstring>
#include <functional>
#include <utility>

#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "support/errors.hpp"
#include "support/model_paths.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using test::model_path;
using ::testing::HasSubstr;

Tensor counting(ElementType type, Shape shape) {
  Tensor t(type, std::move(shape));
  if (type == ElementType::Float) {
    auto data = t.data<float>();
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i);
  }
  return t;
}

using test::error_of;

class ArraySourceTest : public ::testing::Test {
 protected:
  Runtime runtime;
  ModelInfo info = inspect_model(runtime, model_path("add_mul.onnx"));  // a, b: float[batch_size,4]
  test::TempDir dir;
};

TEST_F(ArraySourceTest, ItemIIsRowsIkToIkPlusKAndTheOtherInputsStayRandom) {
  write_npy(dir / "b.npy", counting(ElementType::Float, {6, 4}));
  DimBindings pairs;
  pairs.bind_dim("batch_size=2");
  ArraySource source(info, pairs, {{.input = "b", .file = dir / "b.npy"}}, {}, 40);
  ASSERT_EQ(source.size(), 3U);
  RandomSource random(info, pairs, {}, 40, 3);
  for (const std::size_t i : {2U, 0U, 1U}) {
    const TensorSet item = source.read(i);
    ASSERT_EQ(item.size(), 2U);
    EXPECT_EQ(item[1].name, "b");
    EXPECT_EQ(item[1].tensor.shape(), (Shape{2, 4}));
    for (std::size_t j = 0; j < 8; ++j) EXPECT_EQ(item[1].tensor.data<float>()[j], static_cast<float>(8 * i + j));
    EXPECT_TRUE(item[1].tensor.is_view()) << "the rows are read where they are mapped, not copied";
    // `a` is what the random source gives for the same seed: the array replaces only its own input.
    EXPECT_TRUE(item[0].tensor == random.read(i)[0].tensor) << "item " << i;
  }
  // Unbound, the batch dim is 1: six items of one row.
  ArraySource rows(info, {}, {{.input = "b", .file = dir / "b.npy"}}, {}, 0);
  EXPECT_EQ(rows.size(), 6U);
  EXPECT_EQ(rows.read(5)[1].tensor.data<float>()[0], 20.0F);
  // A view outlives its source: the mapping stays until the last tensor of it goes.
  TensorSet kept;
  {
    ArraySource gone(info, {}, {{.input = "b", .file = dir / "b.npy"}}, {}, 0);
    kept = gone.read(4);
  }
  const TensorSet& still = kept;
  EXPECT_EQ(still[1].tensor.data<float>()[3], 19.0F);
}

TEST_F(ArraySourceTest, ABigEndianArrayIsReadInHostOrder) {
  // '>f4' data: the bytes of each float reversed, as numpy writes astype('>f4').
  Tensor host = counting(ElementType::Float, {2, 4});
  auto bytes = encode_npy(host);
  const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const auto at = text.find("'<f4'");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = static_cast<std::byte>('>');
  const std::size_t data = bytes.size() - host.byte_size();
  for (std::size_t e = 0; e < 8; ++e)
    std::reverse(bytes.begin() + static_cast<long>(data + 4 * e), bytes.begin() + static_cast<long>(data + 4 * e + 4));
  write_file_atomically(dir / "big.npy", bytes);
  ArraySource source(info, {}, {{.input = "a", .file = dir / "big.npy"}}, {}, 0);
  const TensorSet item = source.read(1);
  EXPECT_EQ(item[0].tensor.data<float>()[2], 6.0F);
  EXPECT_FALSE(item[0].tensor.is_view()) << "converted, so copied";
}

TEST_F(ArraySourceTest, WhatWouldFailEveryItemIsRefusedUpFront) {
  write_npy(dir / "six.npy", counting(ElementType::Float, {6, 4}));
  write_npy(dir / "five.npy", counting(ElementType::Float, {5, 4}));
  write_npy(dir / "wide.npy", counting(ElementType::Float, {6, 5}));
  write_npy(dir / "ints.npy", Tensor(ElementType::Int64, {6, 4}));
  write_npy(dir / "scalar.npy", Tensor(ElementType::Float, {}));
  const auto make = [&](std::vector<DataFile> arrays, DimBindings bindings = {}) {
    return [this, arrays, bindings] { ArraySource source(info, bindings, arrays, {}, 0); };
  };
  EXPECT_THAT(error_of(make({{"a", dir / "six.npy"}, {"b", dir / "five.npy"}})),
              HasSubstr((dir / "six.npy").string() + " gives 6 items but " + (dir / "five.npy").string() + " gives 5"));
  DimBindings fours;
  fours.bind_dim("batch_size=4");
  EXPECT_THAT(error_of(make({{"a", dir / "six.npy"}}, fours)), HasSubstr("6 rows do not make whole items of 4 rows"));
  EXPECT_THAT(error_of(make({{"a", dir / "wide.npy"}})), HasSubstr("wide.npy"));
  EXPECT_THAT(error_of(make({{"a", dir / "ints.npy"}})), HasSubstr("element type int64"));
  EXPECT_THAT(error_of(make({{"a", dir / "scalar.npy"}})), HasSubstr("rank-0"));
  EXPECT_THAT(error_of(make({{"nope", dir / "six.npy"}})), HasSubstr("no input 'nope'"));
  EXPECT_THAT(error_of(make({{"a", dir / "six.npy"}, {"a", dir / "six.npy"}})), HasSubstr("given two arrays"));
  EXPECT_THAT(error_of(make({{"a", dir / "missing.npy"}})), HasSubstr("missing.npy"));
}

TEST_F(ArraySourceTest, ASpecialFileIsRefusedAtOnce) {
  const auto fifo = dir / "fifo.npy";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No reader hangs on it: the open does not block, and a FIFO is not a regular file.
  EXPECT_THAT(error_of([&] { ArraySource source(info, {}, {{"a", fifo}}, {}, 0); }), HasSubstr("not a regular file"));
}

// Resident pages of `path`'s mappings in this process, from /proc/self/smaps (KiB).
std::size_t mapped_kib(const std::filesystem::path& path) {
  std::ifstream smaps("/proc/self/smaps");
  std::size_t total = 0;
  bool in_file = false;
  for (std::string line; std::getline(smaps, line);) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line.front())) && line.find('-') < 16) {
      in_file = line.ends_with(path.string());
    } else if (in_file && line.starts_with("Rss:")) {
      total += std::stoul(line.substr(4));
    }
  }
  return total;
}

// Memory stays flat however large the array: after 100 items of 400 KB (40 MB in all) read and dropped,
// a few pages of it at most are still mapped, whether the rows were lent as views (float32) or copied
// (bool, normalised to 0 or 1).
TEST(ArraySourceMemory, TheArraysPagesAreHandedBackAsItemsGo) {
  test::TempDir dir;
  for (const ElementType type : {ElementType::Float, ElementType::Bool}) {
    const std::int64_t width = type == ElementType::Float ? 100'000 : 400'000;  // 400 KB per row either way
    ModelInfo model;
    model.inputs.push_back({.name = "x",
                            .type = type,
                            .shape = {Dim{.value = -1, .symbol = "batch"}, Dim{.value = width, .symbol = {}}},
                            .index_limit = std::nullopt});
    const auto path = dir / (type == ElementType::Float ? "rows_f4.npy" : "rows_b1.npy");
    write_npy(path, Tensor(type, {100, width}));
    ArraySource source(model, {}, {{.input = "x", .file = path}}, {}, 0);
    ASSERT_EQ(source.size(), 100U);
    for (std::size_t i = 0; i < source.size(); ++i) {
      const TensorSet item = source.read(i);
      EXPECT_EQ(item[0].tensor.is_view(), type == ElementType::Float);
      EXPECT_EQ(item[0].tensor.shape(), (Shape{1, width}));
      // Read it all, as a worker does (a view's pages are faulted in here, with their neighbours').
      const auto bytes = std::as_const(item[0].tensor).bytes();
      EXPECT_EQ(std::count(bytes.begin(), bytes.end(), std::byte{0}), static_cast<std::ptrdiff_t>(bytes.size()));
    }
    EXPECT_EQ(mapped_kib(dir / "nothing"), 0U) << "a path not mapped has no pages";
    // Views: the last item's rows (kept by the source until the next read); copies: at most one 8 MiB
    // run not yet handed back. Either way in whole 2 MiB blocks where the kernel maps the file's large
    // folios at once (Linux 6 on ext4). 40 MB would be kept if nothing were handed back.
    EXPECT_LE(mapped_kib(path), type == ElementType::Float ? 4U * 1024 : 12U * 1024) << element_type_name(type);
  }
}

TEST(PathList, OnePathPerLineRelativeToTheList) {
  test::TempDir dir;
  const std::string text = "# items\n\nsub/a.npy\r\n/abs/b\nc\n";
  write_file_atomically(dir / "list.txt", std::as_bytes(std::span(text)));
  EXPECT_EQ(read_path_list(dir / "list.txt"),
            (std::vector<std::filesystem::path>{dir / "sub/a.npy", "/abs/b", dir / "c"}));
  const std::string none = "# nothing\n\n";
  write_file_atomically(dir / "empty.txt", std::as_bytes(std::span(none)));
  EXPECT_THAT(error_of([&] { read_path_list(dir / "empty.txt"); }), HasSubstr("names no path"));
  EXPECT_THAT(error_of([&] { read_path_list(dir / "missing.txt"); }), HasSubstr("missing.txt"));
}

TEST(DataSetSourceList, FoldersAndTensorFilesOfAOneInputModel) {
  Runtime runtime;
  const ModelInfo trivial = inspect_model(runtime, model_path("trivial.onnx"));  // x float[batch_size,4]
  test::TempDir dir;
  write_npy(dir / "one.npy", counting(ElementType::Float, {1, 4}));
  std::filesystem::create_directories(dir / "set");
  write_npy(dir / "set" / "x.npy", counting(ElementType::Float, {2, 4}));
  write_npy(dir / "wrong.npy", counting(ElementType::Float, {1, 5}));
  DataSetSource source(
      trivial, std::vector<std::filesystem::path>{dir / "one.npy", dir / "set", dir / "wrong.npy", dir / "gone.npy"});
  ASSERT_EQ(source.size(), 4U);
  EXPECT_EQ(source.name(0), (dir / "one.npy").string());
  EXPECT_EQ(source.read(0)[0].tensor.shape(), (Shape{1, 4}));
  EXPECT_EQ(source.read(1)[0].tensor.shape(), (Shape{2, 4}));
  EXPECT_THAT(error_of([&] { source.read(2); }), HasSubstr("wrong.npy"));
  EXPECT_THAT(error_of([&] { source.read(3); }), HasSubstr("gone.npy"));
  // A file cannot give a model of two inputs its item.
  const ModelInfo add_mul = inspect_model(runtime, model_path("add_mul.onnx"));
  DataSetSource two(add_mul, std::vector<std::filesystem::path>{dir / "one.npy"});
  EXPECT_THAT(error_of([&] { two.read(0); }), HasSubstr("a file gives one input, the model has 2"));
}

}  // namespace
}  // namespace onnxpool
