#pragma once
// Where the build put the generated models and the CLI (compile definitions from tests/CMakeLists.txt).
#include <filesystem>
#include <string>

namespace onnxpool::test {

inline std::filesystem::path model_path(const std::string& file) {
  return std::filesystem::path(ONNXPOOL_MODEL_DIR) / file;
}

}  // namespace onnxpool::test
