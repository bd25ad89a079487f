#include "pipeline/string_spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "common/file_io.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "tensor/unicode.hpp"

namespace onnxpool {
namespace {

constexpr std::uint32_t kFileMagic = 0x53504f4f;    // "OOPS" little-endian: onnxpool string spool
constexpr std::uint32_t kRecordMagic = 0x31525453;  // "STR1"
constexpr std::size_t kRecordHead = 4 + 8 + 8;      // magic, index, payload size
constexpr std::size_t kMaxRank = 64;

using detail::os_error;

template <class T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <class T>
T get(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

using detail::read_all_at;

std::uint32_t checksum(std::uint64_t index, std::string_view payload) {
  uLong crc = ::crc32(0L, reinterpret_cast<const Bytef*>(&index), sizeof index);
  // zlib takes lengths as uInt: feed the payload in pieces.
  for (std::size_t done = 0; done < payload.size();) {
    const std::size_t piece = std::min<std::size_t>(payload.size() - done, 1U << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(payload.data() + done), static_cast<uInt>(piece));
    done += piece;
  }
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

StringSpool StringSpool::create(const std::filesystem::path& path, std::size_t items, const Shape& stacked) {
  StringSpool spool;
  spool.path_ = path;
  spool.items_ = items;
  spool.stacked_ = stacked;
  spool.elements_per_item_ = items == 0 ? 0 : element_count(stacked) / items;
  spool.fd_ = detail::FileDescriptor(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!spool.fd_.is_open()) throw Error(os_error(path, "cannot create"));
  std::string header;
  put<std::uint32_t>(header, kFileMagic);
  put<std::uint64_t>(header, items);
  put<std::uint32_t>(header, static_cast<std::uint32_t>(stacked.size()));
  for (const std::int64_t d : stacked) put<std::int64_t>(header, d);
  detail::write_all_at(spool.fd_.get(), path, header, 0);
  spool.header_bytes_ = spool.end_ = header.size();
  return spool;
}

StringSpool StringSpool::reopen(const std::filesystem::path& path, std::size_t items, const std::vector<bool>& done) {
  StringSpool spool;
  spool.path_ = path;
  spool.items_ = items;
  spool.fd_ = detail::FileDescriptor(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!spool.fd_.is_open()) throw Error(os_error(path, "cannot continue the earlier run's strings"));
  char head[16];
  const auto bad = [&](const std::string& why) { return Error(fmt::format("{}: {}", path.string(), why)); };
  if (!read_all_at(spool.fd_.get(), path, head, 0) || get<std::uint32_t>(head) != kFileMagic) {
    throw bad("not an onnxpool string spool");
  }
  if (get<std::uint64_t>(head + 4) != items)
    throw bad(fmt::format("a spool of {} items, not {}", get<std::uint64_t>(head + 4), items));
  const std::size_t rank = get<std::uint32_t>(head + 12);
  if (rank == 0 || rank > kMaxRank) throw bad(fmt::format("a stacked rank of {}", rank));
  std::vector<char> dims(8 * rank);
  if (!read_all_at(spool.fd_.get(), path, dims, sizeof head)) throw bad("truncated header");
  for (std::size_t d = 0; d < rank; ++d) spool.stacked_.push_back(get<std::int64_t>(dims.data() + 8 * d));
  std::size_t count = 0;
  try {
    count = element_count(spool.stacked_);
  } catch (const Error& e) {
    throw bad(e.what());
  }
  if (items == 0 || spool.stacked_.front() < 0 || count % items != 0)
    throw bad("a shape that is not the items' strings");
  spool.elements_per_item_ = count / items;
  spool.header_bytes_ = sizeof head + dims.size();
  // Up to the first record the journal does not name (its item runs again) or a torn one (the process
  // died while appending): the appends go there.
  spool.end_ = spool.scan([&](std::uint64_t index, const std::string&) { return index < done.size() && done[index]; });
  if (::ftruncate(spool.fd_.get(), static_cast<off_t>(spool.end_)) != 0) throw Error(os_error(path, "cannot repair"));
  return spool;
}

std::string StringSpool::encode(const Tensor& strings) {
  detail::Utf32Converter converter(detail::Utf32Converter::Direction::ToUtf32);
  std::string payload;
  for (const auto& text : strings.strings()) {
    const std::size_t at = payload.size();
    put<std::uint32_t>(payload, 0);
    const std::size_t units = converter.to_utf32(text, payload);
    const auto length = static_cast<std::uint32_t>(units);
    std::memcpy(payload.data() + at, &length, sizeof length);
  }
  return payload;
}

void StringSpool::append(std::size_t index, const std::string& payload) {
  std::string record;
  record.reserve(kRecordHead + payload.size() + 4);
  put<std::uint32_t>(record, kRecordMagic);
  put<std::uint64_t>(record, index);
  put<std::uint64_t>(record, payload.size());
  record += payload;
  put<std::uint32_t>(record, checksum(index, payload));
  detail::write_all_at(fd_.get(), path_, record, end_);
  end_ += record.size();
}

void StringSpool::append_empty(std::size_t index) {
  append(index, std::string(4 * elements_per_item_, '\0'));
}

void StringSpool::sync() {
  detail::sync_data(fd_.get(), path_);
}

template <class Record>
std::size_t StringSpool::scan(Record&& record) const {
  struct stat info {};
  if (::fstat(fd_.get(), &info) != 0) throw Error(os_error(path_, "cannot read"));
  const auto size = static_cast<std::size_t>(info.st_size);
  std::size_t at = header_bytes_;
  std::string payload;
  char head[kRecordHead];
  while (at + kRecordHead + 4 <= size && read_all_at(fd_.get(), path_, head, at)) {
    const auto index = get<std::uint64_t>(head + 4);
    const auto bytes = get<std::uint64_t>(head + 12);
    if (get<std::uint32_t>(head) != kRecordMagic || index >= items_ || bytes > size - at - kRecordHead - 4) break;
    payload.resize(bytes + 4);
    if (!read_all_at(fd_.get(), path_, payload, at + kRecordHead)) break;
    const auto crc = get<std::uint32_t>(payload.data() + bytes);
    payload.resize(bytes);
    if (crc != checksum(index, payload)) break;
    // The element lengths must add up to the payload: a record is whole or it is not one.
    std::size_t walked = 0;
    std::size_t elements = 0;
    while (walked + 4 <= bytes) {
      walked += 4 + 4 * std::size_t{get<std::uint32_t>(payload.data() + walked)};
      ++elements;
    }
    if (walked != bytes || elements != elements_per_item_) break;
    if constexpr (std::is_same_v<decltype(record(index, payload)), bool>) {
      if (!record(index, payload)) break;  // the caller's end
    } else {
      record(index, payload);
    }
    at += kRecordHead + bytes + 4;
  }
  return at;
}

std::size_t StringSpool::write_npy(const std::filesystem::path& npy) const {
  // Pass 1: the longest string (numpy's '<U n' is at least 1).
  std::size_t width = 1;
  scan([&](std::uint64_t, const std::string& payload) {
    for (std::size_t at = 0; at < payload.size();) {
      const std::size_t units = get<std::uint32_t>(payload.data() + at);
      width = std::max(width, units);
      at += 4 + 4 * units;
    }
  });
  const auto header = npy_header(ElementType::String, stacked_, width);
  const std::size_t element_bytes = 4 * width;
  detail::FileDescriptor out(::open(npy.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.is_open()) throw Error(os_error(npy, "cannot create"));
  const std::size_t total = header.size() + element_count(stacked_) * element_bytes;
  if (::ftruncate(out.get(), static_cast<off_t>(total)) != 0) throw Error(os_error(npy, "cannot size"));
  detail::write_all_at(out.get(), npy, header, 0);
  // Pass 2: each item's elements at their offsets, padded (a later record of an item replaces all of it).
  std::string padded;
  scan([&](std::uint64_t index, const std::string& payload) {
    padded.assign(elements_per_item_ * element_bytes, '\0');
    std::size_t element = 0;
    for (std::size_t at = 0; at < payload.size(); ++element) {
      const std::size_t units = get<std::uint32_t>(payload.data() + at);
      std::memcpy(padded.data() + element * element_bytes, payload.data() + at + 4, 4 * units);
      at += 4 + 4 * units;
    }
    detail::write_all_at(out.get(), npy, padded, header.size() + index * elements_per_item_ * element_bytes);
  });
  detail::sync_data(out.get(), npy);
  if (out.close() != 0) throw Error(os_error(npy, "cannot write"));
  return width;
}

void StringSpool::remove() {
  fd_.close();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace onnxpool
