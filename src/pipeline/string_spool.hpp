#pragma once
// The strings of a stacked string output, spooled to a side file until the run is complete: numpy's
// unicode dtype ('<U n') gives every element n characters, n the longest string of the whole array, so
// the .npy can only be laid out once every item's strings are known. Memory stays flat: the records go
// to the file as they come, and the final .npy is written from it in two passes (the width, then each
// element at its offset).
//
// The file: a header (magic, item count, the stacked shape), then one record per item written:
// magic, item index, payload size, payload (per element: its length in UTF-32 code units, then those
// units), and a CRC-32 of index and payload. Records come in the order items reach the sink, which is
// the order the journal commits them in; a resumed run reopens the file and cuts it at the first record
// of an item the journal does not name as done (that item, and all after it, run again), or at a torn
// or damaged record. So every item has at most one record, and the width counts only what is final.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "common/file_descriptor.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class StringSpool {
 public:
  // A new spool at `path` (replacing any) for `items` items stacking to `stacked`.
  static StringSpool create(const std::filesystem::path& path, std::size_t items, const Shape& stacked);
  // The spool an earlier run left at `path`: its header checked against `items`, cut at the first
  // record of an item that `done` (one flag per item, from the journal) does not name, or that is torn.
  static StringSpool reopen(const std::filesystem::path& path, std::size_t items, const std::vector<bool>& done);

  [[nodiscard]] const Shape& stacked() const { return stacked_; }
  // An item's strings as a record's payload; Error for a string that is not valid UTF-8 (checked before
  // anything is written, so that the item can fail alone).
  [[nodiscard]] static std::string encode(const Tensor& strings);
  void append(std::size_t index, const std::string& payload);
  // A record of empty strings, for a failed item.
  void append_empty(std::size_t index);
  void sync();
  // Writes the whole stacked array as a .npy at `npy` (replacing any): '<U n', every element padded
  // to n, items without a record empty (an item with two records: the last). Returns n.
  std::size_t write_npy(const std::filesystem::path& npy) const;
  void remove();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  StringSpool() = default;
  // Calls `record(index, payload)` for each valid record in file order (until it returns false, if it
  // returns a bool); returns where the records it took end.
  template <class Record>
  std::size_t scan(Record&& record) const;

  std::filesystem::path path_;
  detail::FileDescriptor fd_;
  std::size_t items_ = 0;
  Shape stacked_;
  std::size_t elements_per_item_ = 0;
  std::size_t header_bytes_ = 0;
  std::size_t end_ = 0;  // where the next record goes
};

}  // namespace onnxpool
