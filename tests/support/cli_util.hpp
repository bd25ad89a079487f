#pragma once
// Runs the onnxpool CLI as a user would, capturing exit status, stdout and stderr.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

// A path quoted for the shell fragments run_cli takes.
inline std::string q(const std::filesystem::path& path) {
  return shell_quote(path.string());
}

// `args` is a shell fragment (quoted by the caller where needed). A command still running after
// `seconds` is killed (status 124, or 137 when it ignores SIGTERM): a hang fails its test, not CI.
inline CliResult run_cli(const std::string& args, int seconds = 300) {
  TempDir capture;
  const auto out = capture / "out";
  const auto err = capture / "err";
  const std::string command = "timeout --kill-after=10 " + std::to_string(seconds) + " " + std::string(ONNXPOOL_CLI) +
                              " " + args + " >" + out.string() + " 2>" + err.string() + " </dev/null";
  const int raw = std::system(command.c_str());
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

}  // namespace onnxpool::test
