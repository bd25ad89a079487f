// Files of one entry per line that users give: --list's paths (source.hpp) and --labels' class names
// (top_k.hpp). Each is read whole, then parsed from its text, so that the parsing can be tested and
// fuzzed alone, without ONNX Runtime.
#include <fmt/format.h>

#include "onnxpool/pipeline/source.hpp"
#include "onnxpool/pipeline/top_k.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {

std::vector<std::filesystem::path> parse_path_list(std::string_view text, const std::filesystem::path& list) {
  std::vector<std::filesystem::path> paths;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::filesystem::path path(line);
    paths.push_back(path.is_absolute() ? path : list.parent_path() / path);
  }
  if (paths.empty()) throw Error(fmt::format("{}: the list names no path", list.string()));
  return paths;
}

std::vector<std::filesystem::path> read_path_list(const std::filesystem::path& list) {
  const auto bytes = read_file_bytes(list);
  return parse_path_list(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), list);
}

std::vector<std::string> parse_labels(std::string_view text, const std::string& source) {
  std::vector<std::string> labels;
  std::string line;
  for (const char c : text) {
    if (c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      labels.push_back(std::move(line));
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) labels.push_back(std::move(line));
  if (labels.empty()) throw Error(fmt::format("{}: no labels (one per line)", source));
  return labels;
}

std::vector<std::string> read_labels(const std::filesystem::path& path) {
  // A labels file is a few KiB: anything that is not a regular file of at most 64 MiB is not one (a
  // FIFO would never end, /dev/zero never stop).
  const auto bytes = read_regular_file(path, std::uint64_t{64} << 20);
  return parse_labels(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

}  // namespace onnxpool
