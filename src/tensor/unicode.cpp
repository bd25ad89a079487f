#include "tensor/unicode.hpp"

#include <iconv.h>

#include <cerrno>

#include <fmt/format.h>

#include "onnxpool/error.hpp"

namespace onnxpool::detail {

Utf32Converter::Utf32Converter(Direction direction, bool big_endian) {
  const char* utf32 = big_endian ? "UTF-32BE" : "UTF-32LE";
  const char* to = direction == Direction::ToUtf32 ? "UTF-32LE" : "UTF-8";
  const char* from = direction == Direction::ToUtf32 ? "UTF-8" : utf32;
  iconv_t cd = ::iconv_open(to, from);
  // iconv_open says it failed with (iconv_t)-1, a pointer made from an integer: its interface, not ours.
  if (cd == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr)
    throw Error(fmt::format("no {} to {} converter (iconv)", from, to));
  }
  cd_ = cd;
}

Utf32Converter::~Utf32Converter() {
  ::iconv_close(static_cast<iconv_t>(cd_));
}

bool Utf32Converter::convert(const char* in, std::size_t size, std::string& out) {
  ::iconv(static_cast<iconv_t>(cd_), nullptr, nullptr, nullptr, nullptr);  // a fresh state for each string
  char* from = const_cast<char*>(in);  // iconv's signature; the input is not written
  std::size_t left = size;
  char buffer[4096];
  while (left > 0) {
    char* to = buffer;
    std::size_t room = sizeof buffer;
    const std::size_t rc = ::iconv(static_cast<iconv_t>(cd_), &from, &left, &to, &room);
    out.append(buffer, static_cast<std::size_t>(to - buffer));
    if (rc == static_cast<std::size_t>(-1) && errno != E2BIG) return false;  // EILSEQ, EINVAL: malformed
  }
  return true;
}

std::size_t Utf32Converter::to_utf32(std::string_view text, std::string& out) {
  const std::size_t before = out.size();
  if (!convert(text.data(), text.size(), out)) {
    out.resize(before);
    throw Error("not valid UTF-8");
  }
  return (out.size() - before) / 4;
}

std::string Utf32Converter::to_utf8(std::span<const std::byte> units) {
  std::size_t size = units.size() / 4 * 4;
  // numpy pads with NULs and drops them when it reads: so does this.
  while (size >= 4 && units[size - 1] == std::byte{0} && units[size - 2] == std::byte{0} &&
         units[size - 3] == std::byte{0} && units[size - 4] == std::byte{0}) {
    size -= 4;
  }
  std::string out;
  if (size > 0 && !convert(reinterpret_cast<const char*>(units.data()), size, out)) {
    throw Error("a string element holds a code unit that is no Unicode character");
  }
  return out;
}

}  // namespace onnxpool::detail
