// NumPy .npy files, read and written.
//
// Written by hand because no Debian package provides a .npy reader for C++ (cnpy, libnpy and
// xtensor's loader are not packaged, or not kept up). The format is small and documented in
// numpy/lib/format.py: a magic string, a version, a header length, a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), } and the raw C-order data.
// The header is parsed by a small strict parser of that literal (not an evaluator), and every size it
// declares is checked against the bytes present before anything is allocated.
#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "onnxpool/tensor/tensor_io.hpp"
#include "tensor/file_util.hpp"
#include "tensor/unicode.hpp"

namespace onnxpool {
namespace {

static_assert(std::endian::native == std::endian::little, "the .npy code assumes a little-endian host");

constexpr std::array<unsigned char, 6> kMagic{0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kAlign = 64;                // numpy pads the header so the data starts aligned
constexpr std::size_t kGrowthAxisMaxDigits = 21;  // numpy's spare header room (format.py)

// The dtypes we read and write: kind + size as in a descr ('<f4' -> "f4").
struct DtypeRow {
  std::string_view code;
  ElementType type;
};
constexpr std::array<DtypeRow, 12> kDtypes{{
    {"b1", ElementType::Bool},
    {"i1", ElementType::Int8},
    {"i2", ElementType::Int16},
    {"i4", ElementType::Int32},
    {"i8", ElementType::Int64},
    {"u1", ElementType::UInt8},
    {"u2", ElementType::UInt16},
    {"u4", ElementType::UInt32},
    {"u8", ElementType::UInt64},
    {"f2", ElementType::Float16},
    {"f4", ElementType::Float},
    {"f8", ElementType::Double},
}};

struct Dtype {
  ElementType type = ElementType::Undefined;
  bool big_endian = false;
  std::size_t string_width = 0;  // numpy's unicode '<U n': n UTF-32 code units per element
};

// The most code units per element of a unicode array we read: 1 MiB of text per element.
constexpr std::size_t kMaxStringWidth = std::size_t{1} << 18;
// Elements of a '<U0' array at most (16 M empty strings, about 512 MB of std::string).
constexpr std::size_t kMaxEmptyStrings = std::size_t{1} << 24;

struct Header {
  Dtype dtype;
  bool fortran_order = false;
  Shape shape;
};

// The header text as it can appear in a one-line message: printable ASCII, shortened.
std::string printable(std::string_view text) {
  constexpr std::size_t kMax = 120;
  std::string out;
  for (char c : text.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  if (text.size() > kMax) out += "...";
  return out;
}

Dtype parse_descr(std::string_view descr, const std::string& source) {
  std::string_view code = descr;
  char order = '|';
  if (!code.empty() && std::string_view("<>|=").find(code.front()) != std::string_view::npos) {
    order = code.front();
    code.remove_prefix(1);
  }
  for (const auto& row : kDtypes) {
    // One-byte types have no byte order; a '>' on them (numpy never writes one) changes nothing.
    if (row.code == code) return {row.type, order == '>' && element_size(row.type) > 1};
  }
  if (code == "O") throw Error(fmt::format("{}: object arrays ('{}') are not supported", source, descr));
  if (!code.empty() && code.front() == 'U') {
    // numpy's unicode strings: '<U7' holds 7 UTF-32 code units per element.
    std::size_t width = 0;
    const std::string_view digits = code.substr(1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), width);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || width > kMaxStringWidth) {
      throw Error(fmt::format("{}: dtype '{}' is not a unicode dtype of at most {} characters", source,
                              printable(descr), kMaxStringWidth));
    }
    return {ElementType::String, order == '>', width};
  }
  if (!code.empty() && code.front() == 'S') {
    throw Error(
        fmt::format("{}: dtype '{}' (bytes) is not supported: save text as unicode ('<U')", source, printable(descr)));
  }
  throw Error(fmt::format("{}: dtype '{}' is not supported", source, printable(descr)));
}

// A strict parser of the header's dict literal: string keys, and for values a string ('descr'), True or
// False ('fortran_order'), and a tuple of integers ('shape'). Python's whitespace and trailing commas are
// allowed, as are Python 2's long suffixes ("3L").
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Header parse() {
    Header header;
    bool have_descr = false;
    bool have_fortran = false;
    bool have_shape = false;
    skip_space();
    expect('{');
    for (;;) {
      skip_space();
      if (accept('}')) break;
      const std::string key = parse_string("a key");
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (have_descr) fail("'descr' appears twice");
        if (peek() == '[') {
          throw Error(fmt::format("{}: structured dtypes are not supported", source_));
        }
        header.dtype = parse_descr(parse_string("the descr"), source_);
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_fortran) fail("'fortran_order' appears twice");
        header.fortran_order = parse_bool();
        have_fortran = true;
      } else if (key == "shape") {
        if (have_shape) fail("'shape' appears twice");
        header.shape = parse_shape();
        have_shape = true;
      } else {
        fail(fmt::format("unexpected key '{}'", printable(key)));
      }
      skip_space();
      if (accept('}')) break;
      expect(',');
    }
    skip_space();
    if (pos_ != text_.size()) fail("text after the closing '}'");
    if (!have_descr) fail("the header lacks 'descr'");
    if (!have_fortran) fail("the header lacks 'fortran_order'");
    if (!have_shape) fail("the header lacks 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw Error(fmt::format("{}: bad .npy header: {} in \"{}\"", source_, what, printable(text_)));
  }
  [[nodiscard]] char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool accept(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c))
      fail(pos_ < text_.size() ? fmt::format("expected '{}' at offset {}", c, pos_)
                               : fmt::format("expected '{}' but the header ends", c));
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  // 'text' or "text"; the header never needs escapes, so a backslash is refused.
  std::string parse_string(std::string_view what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(fmt::format("expected {} (a quoted string) at offset {}", what, pos_));
    ++pos_;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' || text_[pos_] == '\n') fail("unsupported character in a string");
      ++pos_;
    }
    if (pos_ == text_.size()) fail("unterminated string");
    std::string value(text_.substr(start, pos_ - start));
    ++pos_;
    return value;
  }
  bool parse_bool() {
    if (text_.substr(pos_).starts_with("True")) {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_).starts_with("False")) {
      pos_ += 5;
      return false;
    }
    fail(fmt::format("expected True or False at offset {}", pos_));
  }
  std::int64_t parse_int() {
    const bool negative = accept('-');
    if (peek() < '0' || peek() > '9') fail(fmt::format("expected an integer at offset {}", pos_));
    // Accumulated as a negative number so that the most negative int64 fits too.
    std::int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      if (value < (std::numeric_limits<std::int64_t>::min() + digit) / 10) fail("a dimension does not fit in 64 bits");
      value = value * 10 - digit;
      ++pos_;
    }
    accept('L');
    if (!negative) {
      if (value == std::numeric_limits<std::int64_t>::min()) fail("a dimension does not fit in 64 bits");
      value = -value;
    }
    return value;
  }
  // () | (n,) | (n, m, ...) with an optional trailing comma; "(n)" is an int in Python, not a tuple.
  Shape parse_shape() {
    expect('(');
    Shape shape;
    skip_space();
    if (accept(')')) return shape;
    for (;;) {
      skip_space();
      shape.push_back(parse_int());
      skip_space();
      if (accept(')')) {
        if (shape.size() == 1) fail("the shape is not a tuple (a one-element tuple needs a trailing comma)");
        return shape;
      }
      expect(',');
      skip_space();
      if (accept(')')) return shape;
    }
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

template <std::size_t N>
std::uint64_t read_le(const std::byte* p) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < N; ++i) value |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return value;
}

void byteswap_elements(std::span<std::byte> data, std::size_t size) {
  for (std::size_t offset = 0; offset + size <= data.size(); offset += size) {
    std::reverse(data.begin() + static_cast<std::ptrdiff_t>(offset),
                 data.begin() + static_cast<std::ptrdiff_t>(offset + size));
  }
}

std::string_view descr_of(ElementType type) {
  switch (type) {
    case ElementType::Bool:
      return "|b1";
    case ElementType::Int8:
      return "|i1";
    case ElementType::UInt8:
      return "|u1";
    case ElementType::Int16:
      return "<i2";
    case ElementType::Int32:
      return "<i4";
    case ElementType::Int64:
      return "<i8";
    case ElementType::UInt16:
      return "<u2";
    case ElementType::UInt32:
      return "<u4";
    case ElementType::UInt64:
      return "<u8";
    case ElementType::Float16:
      return "<f2";
    case ElementType::Float:
      return "<f4";
    case ElementType::Double:
      return "<f8";
    case ElementType::BFloat16:
      throw Error("cannot write a bfloat16 tensor as .npy: numpy has no bfloat16 dtype (use .pb)");
    case ElementType::String:
      return "<U";  // followed by the width (npy_header)
    default:
      throw Error(fmt::format("cannot write a tensor of element type {} as .npy", static_cast<int>(type)));
  }
}

// Python's repr of a tuple of ints: (), (5,), (1, 3, 224, 224).
std::string shape_repr(const Shape& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape.front());
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

NpyLayout parse_npy_layout(std::span<const std::byte> bytes, const std::string& source) {
  const std::size_t magic_bytes = std::min(bytes.size(), kMagic.size());
  for (std::size_t i = 0; i < magic_bytes; ++i) {
    if (bytes[i] != std::byte{kMagic[i]}) throw Error(fmt::format("{}: bad magic: not a .npy file", source));
  }
  if (bytes.size() < 8)
    throw Error(fmt::format("{}: truncated: {} bytes is too short for a .npy file", source, bytes.size()));
  const auto major = static_cast<unsigned>(bytes[6]);
  const auto minor = static_cast<unsigned>(bytes[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    throw Error(fmt::format("{}: unsupported .npy format version {}.{}", source, major, minor));
  }
  // Version 1.0 has a 16-bit header length, 2.0 and 3.0 a 32-bit one (3.0: the header is UTF-8).
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = 8 + length_bytes;
  if (bytes.size() < prefix) throw Error(fmt::format("{}: truncated: the header length is cut off", source));
  const std::size_t header_length = major == 1 ? read_le<2>(bytes.data() + 8) : read_le<4>(bytes.data() + 8);
  if (header_length > bytes.size() - prefix) {
    throw Error(fmt::format("{}: truncated: a header of {} bytes runs past the end of the file ({} bytes)", source,
                            header_length, bytes.size()));
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), header_length);
  const Header header = HeaderParser(text, source).parse();
  if (header.fortran_order && header.shape.size() > 1) {
    // Rank 0 and 1 are the same in both orders; numpy still says fortran_order False for them.
    throw Error(fmt::format("{}: Fortran-order arrays are not supported (save with np.ascontiguousarray)", source));
  }

  const std::size_t count = detail::checked_element_count(header.shape, source);
  std::size_t need = detail::checked_byte_size(count, header.dtype.type, header.shape, source);
  if (header.dtype.type == ElementType::String) {
    const std::size_t element_bytes = 4 * header.dtype.string_width;
    if (element_bytes != 0 && count > std::numeric_limits<std::size_t>::max() / element_bytes) {
      throw Error(fmt::format("{}: shape {} of '<U{}' is too large to address", source, shape_to_string(header.shape),
                              header.dtype.string_width));
    }
    need = count * element_bytes;
    // '<U0' (empty strings) takes no data bytes, so the file does not bound its count as it bounds every
    // other array's; each element still becomes a std::string here. A shape of 10^19 of them passed
    // every check above and threw std::length_error (found by the npy fuzzer).
    if (element_bytes == 0 && count > kMaxEmptyStrings) {
      throw Error(fmt::format("{}: shape {} of '<U0' declares {} empty strings, more than the {} this reader makes",
                              source, shape_to_string(header.shape), count, kMaxEmptyStrings));
    }
  }
  const std::size_t available = bytes.size() - prefix - header_length;
  if (available < need) {
    throw Error(fmt::format("{}: truncated: header declares {} ({} bytes) but only {} bytes follow", source,
                            detail::count_phrase(count, header.dtype.type), need, available));
  }
  if (available > need) {
    throw Error(fmt::format("{}: {} unexpected bytes after the {} bytes of data the header declares", source,
                            available - need, need));
  }
  return {.type = header.dtype.type,
          .shape = header.shape,
          .big_endian = header.dtype.big_endian,
          .data_offset = prefix + header_length,
          .string_width = header.dtype.string_width};
}

void npy_to_host(const NpyLayout& layout, std::span<std::byte> data) {
  if (layout.big_endian) byteswap_elements(data, element_size(layout.type));
  if (layout.type == ElementType::Bool) {
    for (auto& b : data) b = b != std::byte{0} ? std::byte{1} : std::byte{0};  // Tensor's bools are 0/1
  }
}

std::vector<std::string> strings_from_npy(const NpyLayout& layout, std::span<const std::byte> data, std::size_t count,
                                          const std::string& source) {
  const std::size_t element_bytes = 4 * layout.string_width;
  std::vector<std::string> strings(count);
  if (element_bytes == 0) return strings;
  detail::Utf32Converter converter(detail::Utf32Converter::Direction::ToUtf8, layout.big_endian);
  for (std::size_t i = 0; i < count; ++i) {
    try {
      strings[i] = converter.to_utf8(data.subspan(i * element_bytes, element_bytes));
    } catch (const Error& e) {
      throw Error(fmt::format("{}: element {}: {}", source, i, e.what()));
    }
  }
  return strings;
}

Tensor parse_npy(std::span<const std::byte> bytes, const std::string& source) {
  const NpyLayout layout = parse_npy_layout(bytes, source);
  if (layout.type == ElementType::String) {
    return Tensor::from_strings(
        layout.shape, strings_from_npy(layout, bytes.subspan(layout.data_offset), element_count(layout.shape), source));
  }
  Tensor tensor(layout.type, layout.shape);  // allocation now bounded by the bytes present
  if (tensor.byte_size() != 0) std::memcpy(tensor.raw_data(), bytes.data() + layout.data_offset, tensor.byte_size());
  npy_to_host(layout, tensor.bytes());
  return tensor;
}

Tensor read_npy(const std::filesystem::path& path) {
  return parse_npy(read_regular_file(path), path.string());
}

std::vector<std::byte> npy_header(ElementType type, const Shape& shape, std::size_t string_width) {
  const std::string descr =
      type == ElementType::String ? fmt::format("<U{}", string_width) : std::string(descr_of(type));
  // Exactly what numpy 1.24's np.save writes, spare room for a growing first axis included.
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape_repr(shape));
  if (!shape.empty()) {
    const std::size_t digits = fmt::formatted_size("{}", shape.front());
    header.append(kGrowthAxisMaxDigits > digits ? kGrowthAxisMaxDigits - digits : 0, ' ');
  }
  // Version 1.0 unless the header does not fit its 16-bit length (as numpy decides).
  const auto padding_for = [&](std::size_t prefix_size) { return kAlign - (prefix_size + header.size() + 1) % kAlign; };
  const bool v1 = header.size() + 1 + padding_for(10) <= 0xFFFF;
  const std::size_t prefix = v1 ? 10 : 12;
  const std::size_t padding = padding_for(prefix);
  header.append(padding, ' ');
  header.push_back('\n');

  std::vector<std::byte> out;
  out.reserve(prefix + header.size());
  for (auto c : kMagic) out.push_back(std::byte{c});
  out.push_back(std::byte{static_cast<unsigned char>(v1 ? 1 : 2)});
  out.push_back(std::byte{0});
  for (std::size_t i = 0; i < prefix - 8; ++i) out.push_back(static_cast<std::byte>((header.size() >> (8 * i)) & 0xFF));
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::vector<std::byte> encode_npy(const Tensor& tensor) {
  if (tensor.element_type() == ElementType::String) {
    // '<U n' with n the longest element's code units (at least 1, as numpy's), each zero-padded to n.
    detail::Utf32Converter converter(detail::Utf32Converter::Direction::ToUtf32);
    std::vector<std::string> units;
    std::size_t width = 1;
    for (const auto& text : tensor.strings()) {
      units.emplace_back();
      try {
        width = std::max(width, converter.to_utf32(text, units.back()));
      } catch (const Error& e) {
        throw Error(fmt::format("string element {}: {}", units.size() - 1, e.what()));
      }
    }
    std::vector<std::byte> out = npy_header(ElementType::String, tensor.shape(), width);
    for (const auto& u : units) {
      const auto* begin = reinterpret_cast<const std::byte*>(u.data());
      out.insert(out.end(), begin, begin + u.size());
      out.insert(out.end(), 4 * width - u.size(), std::byte{0});
    }
    return out;
  }
  std::vector<std::byte> out = npy_header(tensor.element_type(), tensor.shape());
  const auto data = tensor.bytes();
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  std::vector<std::byte> bytes;
  try {
    bytes = encode_npy(tensor);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path.string(), e.what()));
  }
  write_file_atomically(path, bytes);
}

}  // namespace onnxpool
