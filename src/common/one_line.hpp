#pragma once
// Messages from ONNX Runtime, the OS or a parser may hold newlines; every error onnxpool prints, and
// every failure it records, is one line, and a readable one: at most about a thousand characters.
#include <string>

#include "common/elide.hpp"

namespace onnxpool {

inline std::string one_line(std::string text) {
  for (auto& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return elided_text(text);
}

}  // namespace onnxpool
