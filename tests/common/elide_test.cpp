#include "common/elide.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/one_line.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ElidedList, ShortListsWholeLongOnesTheirHeadAndLength) {
  EXPECT_EQ(shape_to_string({}), "[]");
  EXPECT_EQ(shape_to_string({1, 3, 224, 224}), "[1,3,224,224]");
  EXPECT_EQ(shape_to_string(Shape(8, 2)), "[2,2,2,2,2,2,2,2]") << "eight dims are shown";
  EXPECT_EQ(shape_to_string(Shape(9, 2)), "[2,2,2,… 9 dims]");
  EXPECT_EQ(shape_to_string(Shape(10000, 1)), "[1,1,1,… 10000 dims]");
  EXPECT_EQ(elided_list(std::vector<std::string>(20, "x"), "inputs", "(", ")", ", "), "(x, x, x, … 20 inputs)");
}

TEST(ElidedText, LongTextKeepsItsHeadAndTailAndSaysWhatWasLeftOut) {
  EXPECT_EQ(elided_text("short"), "short");
  const std::string exact(1000, 'a');
  EXPECT_EQ(elided_text(exact), exact) << "at most 1000 characters: whole";
  const std::string text = "HEAD" + std::string(20000, 'x') + "TAIL";
  const auto cut = elided_text(text);
  EXPECT_LT(cut.size(), 1100U);
  EXPECT_THAT(cut, StartsWith("HEADxxx"));
  EXPECT_THAT(cut, HasSubstr(" … (19092 characters left out) … "));
  EXPECT_EQ(cut.substr(cut.size() - 4), "TAIL");
  // A cut never splits a UTF-8 sequence: 'é' is two bytes.
  std::string accents;
  for (int i = 0; i < 3000; ++i) accents += "é";
  const auto cut_accents = elided_text(accents);
  EXPECT_EQ(cut_accents.find("é …") + std::string("é").size(), cut_accents.find(" …"));
  EXPECT_EQ(cut_accents.substr(cut_accents.size() - 2), "é");
}

TEST(OneLine, NewlinesBecomeSpacesAndLongMessagesAreCut) {
  EXPECT_EQ(one_line("a\nb\r\nc"), "a b  c");
  EXPECT_THAT(one_line(std::string(5000, 'z')), HasSubstr("characters left out"));
}

}  // namespace
}  // namespace onnxpool
