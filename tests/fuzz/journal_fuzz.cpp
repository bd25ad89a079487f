// The run journal (--resume reads it back: journal.hpp): its magic line, the identity JSON, "done A-B"
// ranges, "fail {json}" records, a torn last line. The input is the journal's text; its first byte
// chooses how the run asking to resume looks:
//   bit 0: its identity is the journal's own (so that the records are read), else a fixed one;
//   bit 1: its item count is the journal's own, else the next two bytes (little-endian) give it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_contract.hpp"
#include "onnxpool/pipeline/journal.hpp"

using onnxpool::fuzz::require;

namespace {

constexpr std::size_t kMaxItems = std::size_t{1} << 20;  // one bit each: a run's ResumeState stays small
constexpr std::string_view kIdentity = R"({"model":{"path":"m.onnx","size":1234},"source":{"random":8}})";

// The journal's second line as JSON, when it is that: what the run that wrote it said of itself.
nlohmann::json own_header(std::string_view text) {
  const std::size_t first = text.find('\n');
  if (first == std::string_view::npos) return {};
  const std::size_t second = text.find('\n', first + 1);
  if (second == std::string_view::npos) return {};
  return nlohmann::json::parse(text.substr(first + 1, second - first - 1), nullptr, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const unsigned flags = data[0];
  std::size_t items = data[1] | (std::size_t{data[2]} << 8U);
  const std::string_view text(reinterpret_cast<const char*>(data) + 3, size - 3);

  std::string identity(kIdentity);
  const nlohmann::json header = own_header(text);
  if (header.is_object()) {
    if ((flags & 1U) != 0 && header.contains("identity") && header["identity"].is_object()) {
      identity = header["identity"].dump();
    }
    if ((flags & 2U) != 0 && header.contains("items") && header["items"].is_number_unsigned() &&
        header["items"].get<std::size_t>() <= kMaxItems) {
      items = header["items"].get<std::size_t>();
    }
  }

  onnxpool::fuzz::expect_error_or_success([&] {
    std::size_t valid = 0;
    const onnxpool::ResumeState state = onnxpool::RunJournal::parse(text, items, identity, "fuzz-journal", &valid);
    require(state.done.size() == items, "one done bit per item");
    require(valid <= text.size() && valid > 0 && text[valid - 1] == '\n', "the valid part is whole lines");
    for (std::size_t i = 0; i < state.failures.size(); ++i) {
      const std::size_t index = state.failures[i].index;
      require(index < items && state.done[index], "a failed item is a done one");
      require(i == 0 || state.failures[i - 1].index < index, "failures in item order, each once");
    }
  });
  return 0;
}
