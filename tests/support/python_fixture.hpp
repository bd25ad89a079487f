#pragma once
// Runs small Python scripts with the system interpreter (/usr/bin/python3, which has numpy and onnx;
// the first python3 on PATH may be a pyenv one without them), to make fixtures with the real libraries
// and to check that they read what we write.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "support/temp_dir.hpp"

namespace onnxpool::test {

inline constexpr const char* kSystemPython = "/usr/bin/python3";

// Single-quoted for the shell.
inline std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct PythonResult {
  int status = -1;     // std::system's status; 0 = success
  std::string output;  // stdout and stderr together
};

// Writes `script` into dir and runs it there with the given arguments.
inline PythonResult run_python(const TempDir& dir, const std::string& script, const std::string& args = "") {
  const auto script_path = dir / "script.py";
  const auto output_path = dir / "script.out";
  {
    std::ofstream out(script_path);
    out << script;
  }
  const std::string command = "cd " + shell_quote(dir.path().string()) + " && " + kSystemPython + " " +
                              shell_quote(script_path.string()) + " " + args + " >" +
                              shell_quote(output_path.string()) + " 2>&1";
  PythonResult result;
  result.status = std::system(command.c_str());
  std::ifstream in(output_path);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return result;
}

// Empty when /usr/bin/python3 can import the modules; otherwise why not (for GTEST_SKIP).
inline std::string python_lacks(const std::string& modules) {
  TempDir dir;
  const auto result = run_python(dir, "import " + modules + "\n");
  if (result.status == 0) return "";
  return std::string(kSystemPython) + " cannot import " + modules + ": " + result.output;
}

}  // namespace onnxpool::test
