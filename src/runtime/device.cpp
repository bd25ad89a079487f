#include "onnxpool/runtime/device.hpp"

#include "common/one_line.hpp"
#include "common/split.hpp"

#include <charconv>

#include <fmt/format.h>

#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

constexpr std::string_view kGrammar = "expected cpu, cpu:THREADS or cuda:ID, optionally followed by *COUNT and @BATCH";

// A positive (or, with allow_zero, non-negative) decimal integer that fills the whole text.
bool parse_int(std::string_view text, int& out, bool allow_zero) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && (out > 0 || (allow_zero && out == 0));
}

DeviceSpec parse_one(std::string_view entry) {
  // The text is the user's, newlines and all: the message stays one line.
  const auto bad = [&] { return Error(one_line(fmt::format("unknown device '{}' ({})", entry, kGrammar))); };
  DeviceSpec spec;
  std::string_view body = entry;
  if (const auto at = body.find('@'); at != std::string_view::npos) {
    if (!parse_int(body.substr(at + 1), spec.batch, false)) throw bad();
    body = body.substr(0, at);
  }
  if (const auto star = body.find('*'); star != std::string_view::npos) {
    if (!parse_int(body.substr(star + 1), spec.count, false)) throw bad();
    body = body.substr(0, star);
  }
  const auto colon = body.find(':');
  const auto kind = body.substr(0, colon);
  const auto arg = colon == std::string_view::npos ? std::string_view{} : body.substr(colon + 1);
  if (kind == "cpu") {
    spec.kind = DeviceKind::Cpu;
    if (colon != std::string_view::npos && !parse_int(arg, spec.threads, false)) throw bad();
  } else if (kind == "cuda" || kind == "gpu") {
    spec.kind = DeviceKind::Cuda;
    if (colon != std::string_view::npos && !parse_int(arg, spec.index, true)) throw bad();
  } else {
    throw bad();
  }
  return spec;
}

}  // namespace

std::string DeviceSpec::to_string() const {
  std::string text =
      kind == DeviceKind::Cpu ? (threads > 0 ? fmt::format("cpu:{}", threads) : "cpu") : fmt::format("cuda:{}", index);
  if (count != 1) text += fmt::format("*{}", count);
  if (batch > 0) text += fmt::format("@{}", batch);
  return text;
}

std::vector<DeviceSpec> parse_devices(std::string_view text) {
  std::vector<DeviceSpec> specs;
  for (const std::string_view entry : split_list(text)) {
    if (entry.empty()) throw Error(one_line(fmt::format("empty device in '{}' ({})", text, kGrammar)));
    specs.push_back(parse_one(entry));
  }
  return specs;
}

}  // namespace onnxpool
