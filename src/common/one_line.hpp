#pragma once
// Messages from ONNX Runtime, the OS or a parser may hold newlines; every error onnxpool prints, and
// every failure it records, is one line.
#include <string>

namespace onnxpool {

inline std::string one_line(std::string text) {
  for (auto& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace onnxpool
