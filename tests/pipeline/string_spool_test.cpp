// The string spool of stacked string outputs: what it lays out, the last record of an item winning,
// and a torn or damaged tail cut off when an interrupted run's spool is reopened.
#include "pipeline/string_spool.hpp"

#include <gtest/gtest.h>

#include "onnxpool/tensor/tensor_io.hpp"
#include "support/cli_util.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

Tensor texts(std::vector<std::string> values) {
  const auto n = static_cast<std::int64_t>(values.size());
  return Tensor::from_strings({n}, std::move(values));
}

TEST(StringSpool, LaysOutEveryItemAtItsRow) {
  test::TempDir dir;
  StringSpool spool = StringSpool::create(dir / "s.spool", 3, {6});
  spool.append(2, StringSpool::encode(texts({"c", "cc"})));
  spool.append(0, StringSpool::encode(texts({"a", "aaa"})));
  EXPECT_EQ(spool.write_npy(dir / "s.npy"), 3U) << "the longest string";
  EXPECT_EQ(read_npy(dir / "s.npy").strings(), (std::vector<std::string>{"a", "aaa", "", "", "c", "cc"}));
  spool.append_empty(1);
  static_cast<void>(spool.write_npy(dir / "s.npy"));
  EXPECT_EQ(read_npy(dir / "s.npy").strings(), (std::vector<std::string>{"a", "aaa", "", "", "c", "cc"}));
}

// An interrupted run's spool holds records past what the journal names: they are cut off on reopening
// (those items run again), so a longer string in one of them cannot widen the final array.
TEST(StringSpool, ReopeningKeepsOnlyWhatTheJournalNames) {
  test::TempDir dir;
  const auto path = dir / "s.spool";
  {
    StringSpool spool = StringSpool::create(path, 3, {3});
    spool.append(0, StringSpool::encode(texts({"zero"})));
    spool.append(1, StringSpool::encode(texts({"a much longer first try"})));
    spool.append(2, StringSpool::encode(texts({"two"})));
  }
  StringSpool spool = StringSpool::reopen(path, 3, {true, false, true});
  spool.append(1, StringSpool::encode(texts({"one"})));
  spool.append(2, StringSpool::encode(texts({"two"})));
  EXPECT_EQ(spool.write_npy(dir / "s.npy"), 4U) << "not the width of the record cut off";
  EXPECT_EQ(read_npy(dir / "s.npy").strings(), (std::vector<std::string>{"zero", "one", "two"}));
}

TEST(StringSpool, ReopeningCutsOffATornOrDamagedTail) {
  test::TempDir dir;
  const auto path = dir / "s.spool";
  {
    StringSpool spool = StringSpool::create(path, 3, {3, 1});
    spool.append(0, StringSpool::encode(texts({"zero"})));
    spool.append(1, StringSpool::encode(texts({"one"})));
    spool.append(2, StringSpool::encode(texts({"two"})));
  }
  const auto full = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full - 3);  // the last record torn
  {
    StringSpool spool = StringSpool::reopen(path, 3, {true, true, true});
    EXPECT_EQ(spool.stacked(), (Shape{3, 1}));
    static_cast<void>(spool.write_npy(dir / "s.npy"));
    EXPECT_EQ(read_npy(dir / "s.npy").strings(), (std::vector<std::string>{"zero", "one", ""}));
    spool.append(2, StringSpool::encode(texts({"TWO"})));  // after the cut, not after the torn bytes
    static_cast<void>(spool.write_npy(dir / "s.npy"));
    EXPECT_EQ(read_npy(dir / "s.npy").strings(), (std::vector<std::string>{"zero", "one", "TWO"}));
  }
  {
    // A flipped byte in record 1's text: its checksum fails, and everything from it on is cut off.
    std::string bytes = test::slurp(path);
    const auto at = bytes.find('o', bytes.find("z\0\0\0e\0\0\0r\0\0\0o", 0, 13) + 13);
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 'O';
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  StringSpool spool = StringSpool::reopen(path, 3, {true, true, true});
  static_cast<void>(spool.write_npy(dir / "s.npy"));
  EXPECT_EQ(read_npy(dir / "s.npy").strings(), (std::vector<std::string>{"zero", "", ""}));

  EXPECT_EQ(test::error_of([&] { static_cast<void>(StringSpool::reopen(path, 4, {})); }),
            path.string() + ": a spool of 3 items, not 4");
  std::ofstream(dir / "junk", std::ios::binary) << "not a spool at all";
  EXPECT_EQ(test::error_of([&] { static_cast<void>(StringSpool::reopen(dir / "junk", 3, {})); }),
            (dir / "junk").string() + ": not an onnxpool string spool");
  EXPECT_THROW(static_cast<void>(StringSpool::encode(texts({"\xc3"}))), Error) << "a cut UTF-8 sequence";
}

}  // namespace
}  // namespace onnxpool
