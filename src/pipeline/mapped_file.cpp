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
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // Every page the range touches, its edges included: the mapping is private and read-only, so a
  // dropped page is only read again from the file if touched (a neighbouring item using it loses
  // nothing). Keeping the edge pages instead would keep one page per item for the whole run.
  const std::size_t first = offset / page * page;
  const std::size_t end = std::min((offset + size + page - 1) / page * page, (size_ + page - 1) / page * page);
  if (data_ == nullptr || end <= first) return;
  ::madvise(const_cast<std::byte*>(data_) + first, end - first, MADV_DONTNEED);
}

}  // namespace onnxpool
