#pragma once
// Runs the onnxpool CLI as a user would, capturing exit status, stdout and stderr.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/errors.hpp"
#include "support/python_fixture.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool::test {

struct CliResult {
  int status = -1;  // exit code; 128 + signal when killed
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Every file below `dir` (hidden ones too), relative, sorted; none when it does not exist.
inline std::vector<std::string> files_under(const std::filesystem::path& dir) {
  std::vector<std::string> files;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(std::filesystem::relative(entry.path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A folder that an interrupted run's --resume completed, against the folder of a clean run of the same
// items (fails_sometimes' one output y): the same two files, y.npy byte for byte, and the same
// `failures` failures in the same order (which worker ran an item may differ).
inline void expect_like_clean_run(const std::filesystem::path& out, const std::filesystem::path& clean,
                                  std::size_t failures) {
  EXPECT_EQ(files_under(out), (std::vector<std::string>{"failures.jsonl", "y.npy"}));
  EXPECT_TRUE(slurp(out / "y.npy") == slurp(clean / "y.npy")) << "byte-identical outputs";
  const auto logged = failures_without_workers(out / "failures.jsonl");
  EXPECT_EQ(logged.size(), failures);
  EXPECT_TRUE(logged == failures_without_workers(clean / "failures.jsonl"));
}

// A path quoted for the shell fragments run_cli takes.
inline std::string q(const std::filesystem::path& path) {
  return shell_quote(path.string());
}

// Runs the shell command line `command` (quoted by the caller), capturing its status and output. A
// command still running after `seconds` is killed (status 124, or 137 when it ignores SIGTERM): a hang
// fails its test, not CI.
inline CliResult run_shell(const std::string& command, int seconds = 300) {
  TempDir capture;
  const auto out = capture / "out";
  const auto err = capture / "err";
  const std::string line = "timeout --kill-after=10 " + std::to_string(seconds) + " " + command + " >" + out.string() +
                           " 2>" + err.string() + " </dev/null";
  const int raw = std::system(line.c_str());
  CliResult result;
  if (WIFEXITED(raw)) {
    result.status = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    result.status = 128 + WTERMSIG(raw);
  }
  result.out = slurp(out);
  result.err = slurp(err);
  return result;
}

// `args` is a shell fragment (quoted by the caller where needed), given to the onnxpool CLI.
inline CliResult run_cli(const std::string& args, int seconds = 300) {
  return run_shell(std::string(ONNXPOOL_CLI) + " " + args, seconds);
}

}  // namespace onnxpool::test
