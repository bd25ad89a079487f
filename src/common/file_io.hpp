#pragma once
// The pipeline's file writes and reads at known offsets, whatever partial transfers and interruptions
// (EINTR) the system calls make, each failure one line naming the file, what was being done and the
// OS's reason: "out/output.npy.partial: cannot write: No space left on device".
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "common/os_reason.hpp"
#include "onnxpool/error.hpp"

namespace onnxpool::detail {

// "<path>: <what>: <reason for errno>", for the system call that just failed.
inline std::string os_error(const std::filesystem::path& path, std::string_view what) {
  return fmt::format("{}: {}: {}", path.string(), what, os_reason(errno));
}

// All of `bytes` at `offset`. Throws Error(os_error(path, what)).
inline void write_all_at(int fd, const std::filesystem::path& path, std::span<const std::byte> bytes,
                         std::size_t offset, std::string_view what = "cannot write") {
  while (!bytes.empty()) {
    const ssize_t done = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) throw Error(os_error(path, what));
    bytes = bytes.subspan(static_cast<std::size_t>(done));
    offset += static_cast<std::size_t>(done);
  }
}

inline void write_all_at(int fd, const std::filesystem::path& path, std::string_view text, std::size_t offset,
                         std::string_view what = "cannot write") {
  write_all_at(fd, path, std::as_bytes(std::span(text.data(), text.size())), offset, what);
}

// Exactly `out.size()` bytes from `offset`; false when the file ends first. Throws Error on a failed read.
inline bool read_all_at(int fd, const std::filesystem::path& path, std::span<char> out, std::size_t offset,
                        std::string_view what = "cannot read") {
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(os_error(path, what));
    if (n == 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// The file's data on disk (fdatasync). EINVAL: a file system that cannot sync, nothing more to be done.
inline void sync_data(int fd, const std::filesystem::path& path, std::string_view what = "cannot sync") {
  if (::fdatasync(fd) != 0 && errno != EINVAL) throw Error(os_error(path, what));
}

}  // namespace onnxpool::detail
