#pragma once
// A fresh temporary folder for one test, removed with everything in it on destruction: the library's
// ScratchDir under $ONNXPOOL_TEST_TMP, else the build's ONNXPOOL_TEST_TMP (set by tests/CMakeLists.txt), else /tmp.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/scratch_dir.hpp"

namespace onnxpool::test {

class TempDir {
 public:
  TempDir() : dir_(make_base()) {}

  [[nodiscard]] const std::filesystem::path& path() const { return dir_.path(); }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return dir_.path() / name; }

 private:
  static std::filesystem::path make_base() {
    std::filesystem::path base = "/tmp";
    if (const char* env = std::getenv("ONNXPOOL_TEST_TMP"); env != nullptr && *env != '\0') {
      base = env;
    } else {
#ifdef ONNXPOOL_TEST_TMP
      base = ONNXPOOL_TEST_TMP;
#endif
    }
    std::filesystem::create_directories(base);
    return base;
  }

  ScratchDir dir_;
};

}  // namespace onnxpool::test
