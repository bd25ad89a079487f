// The file helpers of tensor_io.hpp (read_file_bytes, write_file_atomically) and the checks shared by
// the tensor file formats. POSIX calls rather than iostreams: they give errno, and so the OS's own
// reason, for every failure.
#include "tensor/file_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <random>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/file_descriptor.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {
namespace detail {

std::size_t checked_element_count(const Shape& shape, std::string_view source) {
  try {
    return element_count(shape);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", source, e.what()));
  }
}

std::size_t checked_byte_size(std::size_t count, ElementType type, const Shape& shape, std::string_view source) {
  const std::size_t size = element_size(type);
  if (size != 0 && count > std::numeric_limits<std::size_t>::max() / size) {
    throw Error(fmt::format("{}: shape {} of {} is too large to address", source, shape_to_string(shape),
                            element_type_name(type)));
  }
  return count * size;
}

std::string count_phrase(std::size_t count, ElementType type) {
  return fmt::format("{} {} value{}", count, element_type_name(type), count == 1 ? "" : "s");
}

}  // namespace detail

using detail::FileDescriptor;

namespace {

// Removes a temporary file unless it was renamed into place.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

// A name no other writer in this or another process is using: pid, a process-wide counter and a
// random part. O_EXCL still guards against the rest.
std::string temp_name_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937 random{std::random_device{}()};
  const auto parent = path.parent_path();
  // The final name shortened so that the temporary one stays within NAME_MAX (255).
  const std::string base = path.filename().string().substr(0, 200);
  const auto name = fmt::format(".{}.tmp.{}.{}.{:08x}", base, ::getpid(), counter++, random());
  return (parent.empty() ? std::filesystem::path(name) : parent / name).string();
}

}  // namespace

std::vector<std::byte> read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever, before fstat can refuse it.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) throw Error(fmt::format("cannot open '{}': {}", path.string(), detail::os_reason(errno)));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    throw Error(fmt::format("cannot read '{}': {}", path.string(), detail::os_reason(errno)));
  }
  if (S_ISDIR(info.st_mode)) throw Error(fmt::format("cannot read '{}': {}", path.string(), detail::os_reason(EISDIR)));
  if (!S_ISREG(info.st_mode)) {
    throw Error(fmt::format("cannot read '{}': not a regular file (a FIFO, a device or a socket)", path.string()));
  }
  if (static_cast<std::uint64_t>(info.st_size) > max_bytes) {
    // The limit as it was set: "4 GiB", "64 MiB", or bytes.
    const std::string limit =
        max_bytes % (std::uint64_t{1} << 30) == 0 && max_bytes > 0   ? fmt::format("{} GiB", max_bytes >> 30)
        : max_bytes % (std::uint64_t{1} << 20) == 0 && max_bytes > 0 ? fmt::format("{} MiB", max_bytes >> 20)
                                                                     : fmt::format("{} bytes", max_bytes);
    throw Error(fmt::format("cannot read '{}': {} bytes, over the {} such a file may hold", path.string(), info.st_size,
                            limit));
  }
  // Nor more than half of this machine's memory: the item must still be run (its outputs, ONNX
  // Runtime's arena), and a file that cannot fit would end in bad_alloc or the OOM killer.
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) {
    const std::uint64_t half = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) / 2;
    if (static_cast<std::uint64_t>(info.st_size) > half) {
      throw Error(fmt::format("cannot read '{}': {} bytes, over half of this machine's memory ({:.1f} GiB)",
                              path.string(), info.st_size, static_cast<double>(half) / (1U << 30)));
    }
  }
  std::vector<std::byte> bytes(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot read '{}': {}", path.string(), detail::os_reason(errno)));
    if (n == 0) {  // shrunk while being read
      bytes.resize(done);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::vector<std::byte> read_file_bytes(const std::filesystem::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw Error(fmt::format("cannot open '{}': {}", path.string(), detail::os_reason(errno)));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    throw Error(fmt::format("cannot read '{}': {}", path.string(), detail::os_reason(errno)));
  }
  if (S_ISDIR(info.st_mode)) throw Error(fmt::format("cannot read '{}': {}", path.string(), detail::os_reason(EISDIR)));
  std::vector<std::byte> bytes;
  // The size is only a hint (the file may change, or be a pipe): read until end of file.
  if (S_ISREG(info.st_mode) && info.st_size > 0) bytes.reserve(static_cast<std::size_t>(info.st_size));
  std::byte chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("cannot read '{}': {}", path.string(), detail::os_reason(errno)));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  return bytes;
}

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  if (path.filename().empty()) throw Error(fmt::format("cannot write '{}': not a file name", path.string()));
  std::string temp;
  int fd_value = -1;
  for (int attempt = 0; attempt < 16 && fd_value < 0; ++attempt) {
    temp = temp_name_for(path);
    // 0666 and the umask, as any newly created file gets (mkstemp would force 0600).
    fd_value = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_value < 0 && errno != EEXIST) break;
  }
  if (fd_value < 0) throw Error(fmt::format("cannot write '{}': {}", path.string(), detail::os_reason(errno)));
  FileDescriptor fd(fd_value);
  TempFileGuard guard(temp);

  const auto fail = [&](int errnum) {
    throw Error(fmt::format("cannot write '{}': {}", path.string(), detail::os_reason(errnum)));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  // Data on disk before the rename, so a crash leaves the old file or the new one, never a torn one.
  if (::fdatasync(fd.get()) != 0 && errno != EINVAL) fail(errno);  // EINVAL: a file system without sync
  if (const int errnum = fd.close(); errnum != 0) fail(errnum);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail(errno);
  guard.release();
}

}  // namespace onnxpool
