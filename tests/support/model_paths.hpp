#pragma once
// Where the build put the generated models and the CLI (compile definitions from tests/CMakeLists.txt).
#include <cstdlib>
#include <filesystem>
#include <string>

namespace onnxpool::test {

// $ONNXPOOL_MODEL_DIR overrides the build's folder (the GPU check runs tests from a bundle elsewhere).
inline std::filesystem::path model_path(const std::string& file) {
  const char* dir = std::getenv("ONNXPOOL_MODEL_DIR");
  return std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : ONNXPOOL_MODEL_DIR) / file;
}

}  // namespace onnxpool::test
