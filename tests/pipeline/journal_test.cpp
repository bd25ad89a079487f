// The run journal: what it records and when, what it reads back (torn last lines, ranges, failures),
// which runs it refuses to continue, and the order of durability of JournaledSink (data synced before
// the journal names its items).
#include "onnxpool/pipeline/journal.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/cli_util.hpp"
#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kIdentity = R"({"model":{"path":"m.onnx","size":10},"random":8})";

std::string journal_text(const std::string& lines) {
  return "onnxpool-journal 1\n{\"identity\":" + kIdentity + ",\"items\":8}\n" + lines;
}

std::vector<std::size_t> done_indices(const ResumeState& state) {
  std::vector<std::size_t> done;
  for (std::size_t i = 0; i < state.done.size(); ++i) {
    if (state.done[i]) done.push_back(i);
  }
  return done;
}

TEST(RunJournal, ReadsRangesAndFailuresInItemOrder) {
  const auto text = journal_text(
      "done 0-2\n"
      "fail {\"index\":5,\"name\":\"e\",\"worker\":\"cpu#1\",\"cause\":\"boom\"}\n"
      "done 3\n"
      "fail {\"index\":4,\"name\":\"d\",\"worker\":\"\",\"cause\":\"unreadable\"}\n");
  std::size_t valid = 0;
  const ResumeState state = RunJournal::parse(text, 8, kIdentity, "j", &valid);
  EXPECT_EQ(valid, text.size());
  EXPECT_EQ(done_indices(state), (std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(state.done_count(), 6U);
  ASSERT_EQ(state.failures.size(), 2U);
  EXPECT_EQ(state.failures[0].index, 4U);
  EXPECT_EQ(state.failures[0].cause, "unreadable");
  EXPECT_EQ(state.failures[1].index, 5U);
  EXPECT_EQ(state.failures[1].worker, "cpu#1");
  EXPECT_EQ(state.failures[1].name, "e");
}

TEST(RunJournal, ATornLastLineIsDropped) {
  // The process died while appending "done 3-6\n": only complete lines count.
  for (const std::string torn : {"d", "done 3-", "done 3-6", "fail {\"index\":3"}) {
    const auto text = journal_text("done 0-2\n" + torn);
    std::size_t valid = 0;
    const ResumeState state = RunJournal::parse(text, 8, kIdentity, "j", &valid);
    EXPECT_EQ(done_indices(state), (std::vector<std::size_t>{0, 1, 2})) << torn;
    EXPECT_EQ(valid, text.size() - torn.size()) << torn;
  }
  // Even the identity line: then it is not a journal yet.
  EXPECT_THROW(static_cast<void>(RunJournal::parse("onnxpool-journal 1\n{\"ident", 8, kIdentity, "j")), Error);
}

TEST(RunJournal, RefusesAnotherRunNamingWhatDiffers) {
  const auto text = journal_text("done 0-2\n");
  try {
    static_cast<void>(RunJournal::parse(text, 8, R"({"model":{"path":"m.onnx","size":11},"random":8})", "out/j"));
    FAIL() << "another model size was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "out/j: the run there is another run: its model.size was 10, this run's is 11");
  }
  try {
    static_cast<void>(RunJournal::parse(text, 9, kIdentity, "out/j"));
    FAIL() << "another item count was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "out/j: the run there has 8 items, this one 9");
  }
  try {
    static_cast<void>(RunJournal::parse(text, 8, R"({"model":{"path":"m.onnx","size":10},"random":8,"seed":1})", "j"));
    FAIL() << "an added field was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "j: the run there is another run: its seed was null, this run's is 1");
  }
}

TEST(RunJournal, DamageBeforeTheLastLineIsAnErrorNamingTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"done 0-2\nXYZ\ndone 3\n", "j: line 4: unknown record 'XYZ'"},
      {"done 2-1\n", "j: line 3: items 2-1 of 8"},
      {"done 0-8\n", "j: line 3: items 0-8 of 8"},
      {"done 18446744073709551616\n", "j: line 3: bad item '18446744073709551616'"},
      {"done -1\n", "j: line 3: bad item ''"},
      {"done 1x\n", "j: line 3: bad item '1x'"},
      {"fail {\"index\":1}\n", "j: line 3: a bad failure record"},
      {"fail {\"index\":9,\"name\":\"\",\"worker\":\"\",\"cause\":\"\"}\n", "j: line 3: item 9 of 8"},
      {"fail [1,2\n", "j: line 3: a bad failure record"},
      // Found by journal_fuzz (corpus/journal/regress-float-index): a float index was converted with
      // undefined behaviour (UBSan: 1e+300 is outside the range of unsigned long).
      {"fail {\"index\":1e300,\"name\":\"\",\"worker\":\"\",\"cause\":\"\"}\n",
       "j: line 3: a failure record without an item index"},
      {"fail {\"index\":2.0,\"name\":\"\",\"worker\":\"\",\"cause\":\"\"}\n",
       "j: line 3: a failure record without an item index"},
      {"fail {\"index\":-1,\"name\":\"\",\"worker\":\"\",\"cause\":\"\"}\n",
       "j: line 3: a failure record without an item index"},
  };
  for (const auto& [lines, message] : cases) {
    try {
      static_cast<void>(RunJournal::parse(journal_text(lines), 8, kIdentity, "j"));
      ADD_FAILURE() << "accepted: " << lines;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), message) << lines;
    }
  }
  EXPECT_THROW(static_cast<void>(RunJournal::parse("", 8, kIdentity, "j")), Error);
  EXPECT_THROW(static_cast<void>(RunJournal::parse("PK\x03\x04\n", 8, kIdentity, "j")), Error);
  EXPECT_THROW(static_cast<void>(RunJournal::parse("onnxpool-journal 1\n[]\n", 8, kIdentity, "j")), Error);
}

TEST(RunJournal, ItsMessagesAreOneLineWhateverTheJournalHolds) {
  // Found by tests/fuzz/journal_fuzz.cpp (corpus/journal/regress-*): a '\r' in a record, a newline in a
  // key of the identity, came out in the message as they were.
  EXPECT_EQ(test::error_of([] { static_cast<void>(RunJournal::parse(journal_text("done 1\r\n"), 8, kIdentity, "j")); }),
            "j: line 3: bad item '1 '");
  const std::string other = "onnxpool-journal 1\n{\"identity\":{\"a\\nb\":1},\"items\":8}\n";
  EXPECT_EQ(test::error_of([&] { static_cast<void>(RunJournal::parse(other, 8, kIdentity, "j")); }),
            "j: the run there is another run: its a b was 1, this run's is null");
}

TEST(RunJournal, RecordsOnlyWhatWasCommittedAndContinuesAfterIt) {
  test::TempDir dir;
  const auto path = dir / RunJournal::kFileName;
  {
    RunJournal journal = RunJournal::start(path, 8, kIdentity);
    journal.done(0);
    journal.done(1);
    journal.done(2);
    journal.failed({.index = 3, .name = "d", .worker = "cpu#0", .cause = "boom"});
    journal.commit();
    journal.done(4);  // written, never committed: the run dies here
    EXPECT_EQ(journal.accounted(), 5U);
  }
  EXPECT_EQ(test::slurp(path),
            journal_text("done 0-2\nfail {\"cause\":\"boom\",\"index\":3,\"name\":\"d\",\"worker\":\"cpu#0\"}\n"));
  // A torn append after it is cut off before the next run appends.
  { std::ofstream(path, std::ios::app) << "done 4-"; }
  ResumeState state;
  {
    RunJournal journal = RunJournal::resume(path, 8, kIdentity, state);
    EXPECT_EQ(done_indices(state), (std::vector<std::size_t>{0, 1, 2, 3}));
    EXPECT_EQ(journal.accounted(), 4U);
    journal.done(4);
    journal.done(5);
    journal.done(7);
    journal.commit();
  }
  const ResumeState again = RunJournal::parse(test::slurp(path), 8, kIdentity, "j");
  EXPECT_EQ(done_indices(again), (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 7}));
  ASSERT_EQ(again.failures.size(), 1U);
  EXPECT_EQ(again.failures[0].index, 3U);
}

TEST(RunJournal, OneRunAtATimeAndNoJournalIsNamed) {
  test::TempDir dir;
  const auto path = dir / RunJournal::kFileName;
  ResumeState state;
  try {
    static_cast<void>(RunJournal::resume(path, 8, kIdentity, state));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": no journal: there is no unfinished run to continue");
  }
  RunJournal first = RunJournal::start(path, 8, kIdentity);
  try {
    static_cast<void>(RunJournal::start(path, 8, kIdentity));
    FAIL() << "a second writer was let in";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": another onnxpool run is writing there");
  }
  EXPECT_THROW(static_cast<void>(RunJournal::resume(path, 8, kIdentity, state)), Error);
  first.remove();
  EXPECT_FALSE(std::filesystem::exists(path));
}

// A data sink that, when synced, looks at what the journal says at that moment.
class SyncSpy final : public Sink {
 public:
  explicit SyncSpy(std::filesystem::path journal) : journal_(std::move(journal)) {}
  void write(std::size_t index, const std::string& /*name*/, const TensorSet& /*outputs*/) override {
    written.push_back(index);
  }
  void kept(std::size_t index, const std::string& /*name*/) override { kept_items.push_back(index); }
  void sync() override { journal_at_sync.push_back(test::slurp(journal_)); }
  void finish() override { ++finished; }
  std::vector<std::size_t> written;
  std::vector<std::size_t> kept_items;
  std::vector<std::string> journal_at_sync;
  int finished = 0;

 private:
  std::filesystem::path journal_;
};

TEST(JournaledSink, DataIsSyncedBeforeTheJournalNamesItsItems) {
  test::TempDir dir;
  const auto path = dir / RunJournal::kFileName;
  RunJournal journal = RunJournal::start(path, 3, kIdentity);
  SyncSpy data(path);
  JournaledSink sink(data, journal, /*commit_seconds=*/0.0);  // a commit after every item
  sink.write(0, "", {});
  sink.write(1, "", {});
  ASSERT_EQ(data.journal_at_sync.size(), 2U);
  EXPECT_THAT(data.journal_at_sync[0], Not(HasSubstr("done 0"))) << "item 0 named before its data was synced";
  EXPECT_THAT(data.journal_at_sync[1], HasSubstr("done 0\n"));
  EXPECT_THAT(data.journal_at_sync[1], Not(HasSubstr("done 1")));
  EXPECT_EQ(sink.commits(), 2U);
  // Not every item accounted for: finishing keeps the journal for a resume.
  sink.finish();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(data.finished, 1);
}

TEST(JournaledSink, CommitsAreGroupedAndACompleteRunRemovesTheJournal) {
  test::TempDir dir;
  const auto path = dir / RunJournal::kFileName;
  {
    RunJournal journal = RunJournal::start(path, 3, kIdentity);
    journal.done(0);
    journal.commit();
  }
  ResumeState state;
  RunJournal journal = RunJournal::resume(path, 3, kIdentity, state);
  SyncSpy data(path);
  JournaledSink sink(data, journal, /*commit_seconds=*/3600.0);
  sink.kept(0, "");
  sink.write(1, "", {});
  sink.write(2, "", {});
  EXPECT_EQ(sink.commits(), 0U) << "no commit before an hour has passed";
  EXPECT_EQ(data.kept_items, (std::vector<std::size_t>{0}));
  sink.finish();
  EXPECT_EQ(sink.commits(), 1U);
  ASSERT_EQ(data.journal_at_sync.size(), 1U);
  EXPECT_EQ(data.written, (std::vector<std::size_t>{1, 2}));
  EXPECT_FALSE(std::filesystem::exists(path)) << "a complete run leaves no journal";
}

}  // namespace
}  // namespace onnxpool
