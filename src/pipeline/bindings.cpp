// The text grammars of inputs given by name (inputs.hpp, source.hpp): "NAME=VALUE" dim bindings,
// "INPUT:D0,D1,..." shapes and "NAME=FILE" files. Apart from the tensor code so that they can be tested
// and fuzzed without ONNX Runtime. The text is the user's, newlines and all: every message quoting it goes
// through one_line.
#include <charconv>

#include <fmt/format.h>

#include "common/one_line.hpp"
#include "common/split.hpp"
#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pipeline/source.hpp"

namespace onnxpool {
namespace {

std::int64_t parse_dim_value(std::string_view text, std::string_view context) {
  std::int64_t value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    throw Error(one_line(fmt::format("{}: '{}' is not a dimension (a whole number >= 0)", context, text)));
  }
  return value;
}

}  // namespace

void DimBindings::bind_dim(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw Error(one_line(fmt::format("'{}': expected NAME=VALUE, e.g. batch_size=8", text)));
  }
  by_name[std::string(text.substr(0, eq))] = parse_dim_value(text.substr(eq + 1), fmt::format("'{}'", text));
}

void DimBindings::bind_shape(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw Error(one_line(fmt::format("'{}': expected INPUT:D0,D1,..., e.g. x:1,3,640,640", text)));
  }
  Shape shape;
  const auto dims = text.substr(colon + 1);
  if (!dims.empty()) {
    for (const std::string_view dim : split_list(dims)) {
      shape.push_back(parse_dim_value(dim, fmt::format("'{}'", text)));
    }
  }
  shape_of_input[std::string(text.substr(0, colon))] = shape;
}

InputFile InputFile::parse(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    throw Error(one_line(fmt::format("'{}': expected NAME=FILE (a .npy or .pb file)", text)));
  }
  return {std::string(text.substr(0, eq)), std::filesystem::path(text.substr(eq + 1))};
}

DataFile DataFile::parse(std::string_view text) {
  const InputFile named = InputFile::parse(text);
  return {.input = named.input, .file = named.file};
}

}  // namespace onnxpool
