#pragma once
// UTF-8 <-> UTF-32 for numpy's unicode arrays ('<U n': n UTF-32 code units per element, zero-padded),
// through glibc's iconv (a converter that rejects malformed input, rather than a hand-written decoder).
// One converter serves many strings: opening one costs more than converting a short string.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace onnxpool::detail {

class Utf32Converter {
 public:
  // UTF-8 -> UTF-32LE (to_utf32), or UTF-32LE/BE -> UTF-8 (to_utf8).
  enum class Direction { ToUtf32, ToUtf8 };
  explicit Utf32Converter(Direction direction, bool big_endian = false);
  Utf32Converter(const Utf32Converter&) = delete;
  Utf32Converter& operator=(const Utf32Converter&) = delete;
  ~Utf32Converter();

  // `text` as UTF-32LE code units appended to `out` (4 bytes each); returns how many. Throws Error
  // ("not valid UTF-8") for malformed input.
  std::size_t to_utf32(std::string_view text, std::string& out);
  // UTF-32 code units, trailing NULs dropped as numpy drops them, as UTF-8. Throws Error for a unit
  // that is no Unicode scalar value.
  std::string to_utf8(std::span<const std::byte> units);

 private:
  bool convert(const char* in, std::size_t size, std::string& out);
  void* cd_;
};

}  // namespace onnxpool::detail
