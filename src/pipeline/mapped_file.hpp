#pragma once
// A regular file mapped read-only into memory, for reading the parts of a large array that a run needs
// without reading (or holding) the whole file. Pages are touched as rows are copied out, and handed
// back with release() once copied, so resident memory stays flat however large the file.
#include <cstddef>
#include <filesystem>
#include <span>

namespace onnxpool {

class MappedFile {
 public:
  // Throws Error naming the path: missing, not a regular file (a FIFO, a device), unreadable.
  explicit MappedFile(const std::filesystem::path& path);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::span<const std::byte> bytes() const { return {data_, size_}; }
  // The pages that [offset, offset + size) touches, and those its reads may have mapped around it
  // (whole 64 KiB fault-around blocks), may be dropped from memory: they are read again from the file
  // if touched, by this part or a neighbour.
  void release(std::size_t offset, std::size_t size) const;

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace onnxpool
