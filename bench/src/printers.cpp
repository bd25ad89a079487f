#include "printers.hpp"

#include <cstdint>

#include <fmt/format.h>

#include "onnxpool/error.hpp"

namespace onnxpool::bench {

std::string value_text(const Value& value, std::string_view spec, double scale) {
  switch (value.type()) {
    case Value::value_t::boolean:
      return value.get<bool>() ? "on" : "off";
    case Value::value_t::string:
      return value.get<std::string>();
    case Value::value_t::number_integer:
      return fmt::format("{}", value.get<std::int64_t>());
    case Value::value_t::number_unsigned:
      return fmt::format("{}", value.get<std::uint64_t>());
    case Value::value_t::number_float:
      return fmt::format(fmt::runtime(fmt::format("{{:{}}}", spec)), value.get<double>() * scale);
    default:
      throw Error(fmt::format("a {} has no text: print it as JSON only", value.type_name()));
  }
}

std::string cell_text(const std::string& text, const Cell& cell) {
  return cell.align == '<' ? fmt::format("{:<{}}", text, cell.width) : fmt::format("{:>{}}", text, cell.width);
}

}  // namespace onnxpool::bench
