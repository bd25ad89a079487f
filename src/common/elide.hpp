#pragma once
// Long values in messages, shortened so that an error stays one readable line: a hostile tensor file
// declaring 10,000 dims once made a 20,107-character error (issue 13). Lists show their first items
// and their length ("[1,1,1,… 10000 dims]"); any text is cut in its middle with the count left out.
#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace onnxpool {

// Lists up to this many items are shown whole; longer ones show kListHead items, then their length.
inline constexpr std::size_t kListShown = 8;
inline constexpr std::size_t kListHead = 3;

// "[a,b,c]" (open/close and sep chosen by the caller), or "[a,b,c,… N <unit>]" for a long range.
template <class Range>
std::string elided_list(const Range& items, std::string_view unit, std::string_view open = "[",
                        std::string_view close = "]", std::string_view sep = ",") {
  const auto count = static_cast<std::size_t>(std::size(items));
  std::string text(open);
  std::size_t shown = 0;
  for (const auto& item : items) {
    if (count > kListShown && shown == kListHead) break;
    if (shown++ > 0) text += sep;
    text += fmt::format("{}", item);
  }
  if (count > kListShown) text += fmt::format("{}… {} {}", sep, count, unit);
  text += close;
  return text;
}

// `text` itself when at most `max` characters, else its head and tail around "… (N characters left
// out) …". The cut may fall inside a UTF-8 sequence only if the message was not UTF-8 to begin with:
// it moves back to a sequence's first byte.
inline std::string elided_text(std::string_view text, std::size_t max = 1000) {
  if (text.size() <= max) return std::string(text);
  const auto boundary = [&](std::size_t at) {
    while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0U) == 0x80U) --at;
    return at;
  };
  const std::size_t head = boundary(max * 2 / 3);
  const std::size_t tail = boundary(text.size() - max / 4);
  return fmt::format("{} … ({} characters left out) … {}", text.substr(0, head), tail - head, text.substr(tail));
}

}  // namespace onnxpool
