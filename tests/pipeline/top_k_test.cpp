// --top-k's ranking, from a stacked scores file: order, ties, rows per item, float16, names quoted as
// CSV wants, failed items left out, and what it refuses.
#include "onnxpool/pipeline/top_k.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

TEST(TopK, RanksEachRowBestFirstTiesToTheLowerClass) {
  test::TempDir dir;
  // 2 items of 2 rows each ([4, 3]: an item's output is [2, 3]); item 1 failed.
  Tensor scores(ElementType::Float, {4, 3});
  const float values[] = {0.5F, 2.0F, 0.5F, /**/ 3.0F, 1.0F, 2.0F, /**/ 9.0F, 9.0F, 9.0F, /**/ 1.0F, 2.0F, 3.0F};
  std::copy(std::begin(values), std::end(values), scores.data<float>().begin());
  write_npy(dir / "scores.npy", scores);
  write_top_k_csv(
      dir / "scores.npy", 2, {.k = 2, .labels = {"a", "b,c", "d"}},
      [](std::size_t i) { return i == 0 ? std::string("x \"y\"") : std::string(); }, [](std::size_t) { return false; },
      dir / "top.csv");
  EXPECT_EQ(test::slurp(dir / "top.csv"),
            "item,rank,class,label,score\n"
            "\"x \"\"y\"\"#0\",1,1,\"b,c\",2\n"
            "\"x \"\"y\"\"#0\",2,0,a,0.5\n"
            "\"x \"\"y\"\"#1\",1,0,a,3\n"
            "\"x \"\"y\"\"#1\",2,2,d,2\n"
            "1#0,1,0,a,9\n"
            "1#0,2,1,\"b,c\",9\n"
            "1#1,1,2,d,3\n"
            "1#1,2,1,\"b,c\",2\n");
  write_top_k_csv(
      dir / "scores.npy", 2, {.k = 9, .labels = {}}, [](std::size_t) { return std::string(); },
      [](std::size_t i) { return i == 0; }, dir / "top.csv");
  EXPECT_EQ(test::slurp(dir / "top.csv"),
            "item,rank,class,label,score\n"
            "1#0,1,0,,9\n1#0,2,1,,9\n1#0,3,2,,9\n"
            "1#1,1,2,,3\n1#1,2,1,,2\n1#1,3,0,,1\n")
      << "K beyond the classes ranks them all; a failed item has no rows";
  EXPECT_FALSE(std::filesystem::exists(dir / "top.csv.partial"));
}

TEST(TopK, Float16ScoresAndWhatIsRefused) {
  test::TempDir dir;
  Tensor half(ElementType::Float16, {1, 3});
  half.data<std::uint16_t>()[0] = float_to_half(1.5F);
  half.data<std::uint16_t>()[1] = float_to_half(-2.0F);
  half.data<std::uint16_t>()[2] = float_to_half(4.0F);
  write_npy(dir / "half.npy", half);
  const auto name = [](std::size_t) { return std::string("img.jpg"); };
  const auto none = [](std::size_t) { return false; };
  write_top_k_csv(dir / "half.npy", 1, {.k = 1, .labels = {}}, name, none, dir / "top.csv");
  EXPECT_EQ(test::slurp(dir / "top.csv"), "item,rank,class,label,score\nimg.jpg,1,2,,4\n");

  write_npy(dir / "ints.npy", Tensor(ElementType::Int64, {2, 3}));
  EXPECT_THROW(write_top_k_csv(dir / "ints.npy", 2, {}, name, none, dir / "t.csv"), Error);
  EXPECT_THROW(write_top_k_csv(dir / "half.npy", 2, {}, name, none, dir / "t.csv"), Error) << "1 row for 2 items";
  EXPECT_THROW(write_top_k_csv(dir / "half.npy", 1, {.k = 1, .labels = {"a"}}, name, none, dir / "t.csv"), Error)
      << "fewer labels than classes";
  EXPECT_FALSE(std::filesystem::exists(dir / "t.csv"));

  { std::ofstream(dir / "labels.txt") << "tench\r\ngoldfish\n\nshark"; }
  EXPECT_EQ(read_labels(dir / "labels.txt"), (std::vector<std::string>{"tench", "goldfish", "", "shark"}));
  { std::ofstream(dir / "empty.txt"); }
  EXPECT_THROW(read_labels(dir / "empty.txt"), Error);
  EXPECT_THROW(read_labels(dir / "missing.txt"), Error);
  EXPECT_THROW(read_labels("/dev/zero"), Error);
}

}  // namespace
}  // namespace onnxpool
