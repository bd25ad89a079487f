// The progress report: a line per step in a log, a bar redrawn in place on a terminal, and for runs of
// many small steps a minimum interval between prints; the sink that advances it per item.
#include "onnxpool/pipeline/progress.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace onnxpool {
namespace {

TEST(Progress, PlainModePrintsOneLinePerStep) {
  std::ostringstream out;
  {
    Progress progress(out, "sweep", 3, false);
    progress.advance("sequence N=1");
    progress.advance("pool N=1");
    progress.advance("pool N=2");
  }
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0].rfind("sweep: 1/3 [", 0), 0U) << all[0];
  EXPECT_NE(all[0].find("sequence N=1"), std::string::npos);
  EXPECT_EQ(all[2].rfind("sweep: 3/3 [", 0), 0U) << all[2];
  EXPECT_NE(all[2].find("it/s]"), std::string::npos);
}

TEST(Progress, TerminalModeDrawsABar) {
  std::ostringstream out;
  Progress progress(out, "grid", 4, true);
  EXPECT_EQ(progress.render(2, 4.0, "x"), "grid  50%|############            | 2/4 [00:04<00:04, 0.50 it/s] x");
  EXPECT_EQ(format_clock(3725), "1:02:05");
  EXPECT_EQ(format_clock(65), "01:05");
}

TEST(Progress, AMinimumIntervalKeepsALogQuietAndATerminalShowsTheLastStep) {
  std::ostringstream log;
  {
    Progress progress(log, "run", 3, false);
    progress.set_min_interval(60.0);
    for (int i = 0; i < 3; ++i) progress.advance("");
  }
  EXPECT_EQ(log.str(), "") << "no line within the interval, none at the end";

  std::ostringstream terminal;
  {
    Progress progress(terminal, "run", 3, true);
    progress.set_min_interval(60.0);
    ProgressSink sink(progress);
    sink.write(0, "", {});
    sink.fail({.index = 1, .name = "", .worker = "", .cause = "x"});
    EXPECT_EQ(terminal.str(), "") << "steps within the interval are not drawn";
    sink.write(2, "", {});
    sink.finish();
  }
  const std::string text = terminal.str();
  EXPECT_NE(text.find("3/3"), std::string::npos) << text;
  EXPECT_NE(text.find("1 failed"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n') << "the bar's line is ended";
}

}  // namespace
}  // namespace onnxpool
