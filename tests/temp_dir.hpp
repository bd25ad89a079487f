#pragma once
// A fresh temporary folder for one test, removed with everything in it on destruction. Made with mkdtemp
// under $ONNXPOOL_TEST_TMP, else the build's ONNXPOOL_TEST_TMP (set by tests/CMakeLists.txt), else /tmp.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace onnxpool::test {

class TempDir {
 public:
  TempDir() {
    const std::filesystem::path base = base_folder();
    std::filesystem::create_directories(base);
    std::string pattern = (base / "onnxpool-test-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed under " + base.string());
    }
    path_ = buffer.data();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;  // a destructor must not throw; a leftover folder is harmless
    std::filesystem::remove_all(path_, ignored);
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  static std::filesystem::path base_folder() {
    if (const char* env = std::getenv("ONNXPOOL_TEST_TMP"); env != nullptr && *env != '\0') return env;
#ifdef ONNXPOOL_TEST_TMP
    return ONNXPOOL_TEST_TMP;
#else
    return "/tmp";
#endif
  }

  std::filesystem::path path_;
};

}  // namespace onnxpool::test
