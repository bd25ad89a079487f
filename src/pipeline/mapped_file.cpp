#include "pipeline/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "common/os_reason.hpp"
#include "onnxpool/error.hpp"

namespace onnxpool {

MappedFile::MappedFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
  if (fd < 0) throw Error(fmt::format("cannot open '{}': {}", path.string(), detail::os_reason(errno)));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw Error(fmt::format("{}: not a regular file", path.string()));
  }
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ > 0) {
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      throw Error(fmt::format("cannot map '{}': {}", path.string(), detail::os_reason(error)));
    }
    data_ = static_cast<const std::byte*>(mapped);
    // Items are read in order: let the kernel read ahead.
    ::madvise(mapped, size_, MADV_SEQUENTIAL);
  }
  ::close(fd);  // the mapping keeps the file
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

void MappedFile::release(std::size_t offset, std::size_t size) const {
  // Every page the range touches, widened to whole fault-around blocks: a page fault in a file mapping
  // maps the pages around it too, up to Linux's fault_around_bytes (64 KiB by default) in an aligned
  // block, so reading a part maps pages of its neighbours, which a release of the part alone would leave
  // mapped (one run of 2,000 MobileNetV2 items on 2 workers kept 15 MiB of its array so, growing with the
  // items). The mapping is private and read-only: a dropped page is only read again from the file if
  // touched, and a neighbour using it loses nothing.
  constexpr std::size_t kFaultAround = std::size_t{64} << 10;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t block = std::max(page, kFaultAround);
  const std::size_t first = offset / block * block;
  const std::size_t end = std::min((offset + size + block - 1) / block * block, (size_ + page - 1) / page * page);
  if (data_ == nullptr || end <= first) return;
  ::madvise(const_cast<std::byte*>(data_) + first, end - first, MADV_DONTNEED);
}

}  // namespace onnxpool
