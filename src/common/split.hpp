#pragma once
// The one list splitter of the CLI grammars (device lists, --shape dims, --strategies, --grid values):
// "a,,b" gives "a", "", "b", so each grammar decides what an empty part means (an error, or nothing).
// Header-only: the benchmark's library uses it too.
#include <string_view>
#include <vector>

namespace onnxpool {

inline std::vector<std::string_view> split_list(std::string_view text, char separator = ',') {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace onnxpool
