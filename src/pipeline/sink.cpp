#include "onnxpool/pipeline/sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <set>
#include <span>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_descriptor.hpp"
#include "common/file_io.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "pipeline/mapped_file.hpp"
#include "pipeline/string_spool.hpp"

namespace onnxpool {

void SinkFan::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  for (Sink* sink : sinks_) sink->write(index, name, outputs);
}

void SinkFan::fail(const ItemFailure& failure) {
  for (Sink* sink : sinks_) sink->fail(failure);
}

void SinkFan::kept(std::size_t index, const std::string& name) {
  for (Sink* sink : sinks_) sink->kept(index, name);
}

void SinkFan::kept_failure(const ItemFailure& failure) {
  for (Sink* sink : sinks_) sink->kept_failure(failure);
}

void SinkFan::sync() {
  for (Sink* sink : sinks_) sink->sync();
}

void SinkFan::finish() {
  for (Sink* sink : sinks_) sink->finish();
}

std::string file_name_for(const std::string& output_name) {
  std::string out = output_name;
  for (auto& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return out.empty() || out.front() == '.' ? "_" + out : out;
}

PerItemNpySink::PerItemNpySink(std::filesystem::path dir, std::size_t item_count)
    : dir_(std::move(dir)), item_count_(item_count) {}

std::filesystem::path PerItemNpySink::folder_of(std::size_t index, const std::string& name) const {
  // A name that is one plain file name names the item's folder; anything else (a path from a list,
  // "..") could land outside the output folder: the index names it then.
  const bool plain = !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
  return item_count_ == 1 ? dir_ : dir_ / (plain ? name : fmt::format("item_{}", index));
}

void PerItemNpySink::clear_leftovers(const std::filesystem::path& folder, bool outputs_too) const {
  std::error_code ec;
  std::vector<std::filesystem::path> gone;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string file = entry.path().filename().string();
    // write_file_atomically's temporaries: ".<name>.tmp.<pid>.<n>.<random>".
    const bool temporary = file.starts_with('.') && file.find(".npy.tmp.") != std::string::npos;
    const bool output = outputs_too && file.ends_with(".npy") && folder != dir_;
    if (temporary || output) gone.push_back(entry.path());
  }
  for (const auto& path : gone) std::filesystem::remove(path, ec);
  if (outputs_too && folder != dir_) std::filesystem::remove(folder, ec);  // only if now empty
}

void PerItemNpySink::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  const auto folder = folder_of(index, name);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the folder: {}", folder.string(), ec.message()));
  if (resumed_) clear_leftovers(folder, false);
  for (const auto& output : outputs) write_npy(folder / (file_name_for(output.name) + ".npy"), output.tensor);
}

void PerItemNpySink::fail(const ItemFailure& failure) {
  if (resumed_) clear_leftovers(folder_of(failure.index, failure.name), true);
}

// One stacked output file: its final and partial names, an open descriptor, and what every item's
// part of it is (element type, the shape of all items stacked, bytes per item).
struct StackedNpySink::File {
  std::filesystem::path path;
  std::filesystem::path partial;
  detail::FileDescriptor fd;         // the .npy.partial (not for strings: they are spooled)
  std::optional<StringSpool> spool;  // strings: spooled until the width is known
  bool final_already = false;        // strings of a run that completed its renames before it stopped
  ElementType type = ElementType::Undefined;
  Shape stacked;  // the whole file's shape: an item stacks when its own stacks to this
  std::size_t item_bytes = 0;
  std::size_t data_offset = 0;  // the header's size
};

namespace {

using detail::os_error;
using detail::sync_data;
using detail::write_all_at;

// The stacked shape of N items of `item`: [N*k, ...] for [k, ...], [N] for a rank-0 item.
Shape stacked_shape(const Shape& item, std::size_t count) {
  if (item.empty()) return {static_cast<std::int64_t>(count)};
  Shape shape = item;
  shape.front() *= static_cast<std::int64_t>(count);
  return shape;
}

// One item's shape in a stacked file of `count` items (for messages): the first dim divided.
Shape item_shape(const Shape& stacked, std::size_t count) {
  Shape shape = stacked;
  if (!shape.empty() && count > 0) shape.front() /= static_cast<std::int64_t>(count);
  return shape;
}

// The bytes an item's rows take in a file of `count` items of `bytes_total` data bytes.
std::size_t per_item(std::size_t bytes_total, std::size_t count) {
  return count == 0 ? 0 : bytes_total / count;
}

}  // namespace

StackedNpySink::StackedNpySink(std::filesystem::path dir, std::size_t item_count, bool resumable)
    : dir_(std::move(dir)), item_count_(item_count), resumable_(resumable) {}

StackedNpySink::~StackedNpySink() {
  // Not finished, or finished incomplete: nothing under a final name; the partial files stay only for
  // a run that can be resumed.
  for (File& file : files_) {
    if (file.spool && !resumable_) file.spool->remove();
    if (!file.fd.is_open()) continue;
    file.fd.close();
    if (resumable_) continue;
    std::error_code ec;
    std::filesystem::remove(file.partial, ec);
  }
}

std::filesystem::path StackedNpySink::final_path(const std::filesystem::path& dir, const std::string& output_name) {
  return dir / (file_name_for(output_name) + ".npy");
}

std::filesystem::path StackedNpySink::spool_path(const std::filesystem::path& dir, const std::string& output_name) {
  return dir / (file_name_for(output_name) + ".npy.strings.partial");
}

std::filesystem::path StackedNpySink::partial_path(const std::filesystem::path& dir, const std::string& output_name) {
  return dir / (file_name_for(output_name) + ".npy.partial");
}

bool StackedNpySink::stackable(const std::vector<ElementType>& output_types) {
  return std::none_of(output_types.begin(), output_types.end(),
                      [](ElementType t) { return t == ElementType::BFloat16; });
}

std::string StackedNpySink::varying_output(const ModelInfo& model) {
  const std::set<std::string> input_dims = model.input_dim_names();
  for (const auto& output : model.outputs) {
    for (const auto& dim : output.shape) {
      if (!dim.fixed() && (dim.symbol.empty() || !input_dims.contains(dim.symbol))) return output.name;
    }
  }
  return {};
}

void StackedNpySink::take_layout(File& file, const Tensor& one) const {
  file.type = one.element_type();
  file.stacked = stacked_shape(one.shape(), item_count_);
  file.item_bytes = one.byte_size();
}

void StackedNpySink::lay_out(File& file) const {
  const auto header = npy_header(file.type, file.stacked);
  file.data_offset = header.size();
  if (::ftruncate(file.fd.get(), static_cast<off_t>(file.data_offset + file.item_bytes * item_count_)) != 0) {
    throw Error(os_error(file.partial, "cannot size"));
  }
  write_all_at(file.fd.get(), file.partial, header, 0);
}

void StackedNpySink::open_files(const TensorSet& first) {
  for (const auto& output : first) {
    File file;
    file.path = final_path(dir_, output.name);
    file.partial = partial_path(dir_, output.name);
    take_layout(file, output.tensor);
    if (file.type == ElementType::String) {
      file.spool = StringSpool::create(spool_path(dir_, output.name), item_count_, file.stacked);
      files_.push_back(std::move(file));
      continue;
    }
    file.fd = detail::FileDescriptor(::open(file.partial.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file.fd.is_open()) throw Error(os_error(file.partial, "cannot create"));
    files_.push_back(std::move(file));
    lay_out(files_.back());
  }
}

void StackedNpySink::resume(const std::vector<std::string>& output_names, const std::vector<bool>& done,
                            bool written_before) {
  files_.clear();
  // Nothing written before: any .partial file there is from the moment the first result was being
  // laid out (perhaps without its header yet); it is made again, whole, at the first result.
  if (!written_before) return;
  std::error_code ec;
  for (const auto& name : output_names) {
    File file;
    file.path = final_path(dir_, name);
    file.partial = partial_path(dir_, name);
    if (std::filesystem::exists(spool_path(dir_, name), ec)) {
      file.spool = StringSpool::reopen(spool_path(dir_, name), item_count_, done);
      file.type = ElementType::String;
      file.stacked = file.spool->stacked();
      files_.push_back(std::move(file));
      continue;
    }
    // Made final already: the earlier run completed and stopped between the renames and the journal's
    // removal. Its rename is then a rename onto itself.
    if (!std::filesystem::exists(file.partial, ec) && std::filesystem::exists(file.path, ec)) file.partial = file.path;
    file.fd = detail::FileDescriptor(::open(file.partial.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!file.fd.is_open()) throw Error(os_error(file.partial, "cannot continue the earlier run's output"));
    struct stat info {};
    if (::fstat(file.fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
      throw Error(fmt::format("{}: not a regular file", file.partial.string()));
    }
    read_layout(file);
    if (file.type == ElementType::String) {
      // Strings made final already (their spool removed): nothing more to write.
      if (file.partial != file.path) {
        throw Error(fmt::format("{}: strings, where the earlier run spooled them", file.partial.string()));
      }
      file.final_already = true;
      file.fd.close();
    }
    files_.push_back(std::move(file));
  }
}

void StackedNpySink::read_layout(File& file) const {
  struct stat info {};
  if (::fstat(file.fd.get(), &info) != 0) throw Error(os_error(file.partial, "cannot read"));
  // Mapped, not read: parsing checks the header against the whole file without reading its rows.
  const NpyLayout layout = parse_npy_layout(MappedFile(file.partial).bytes(), file.partial.string());
  file.type = layout.type;
  file.stacked = layout.shape;
  if (layout.type == ElementType::String) return;
  const std::size_t data_bytes = static_cast<std::size_t>(info.st_size) - layout.data_offset;
  const bool fits = !layout.big_endian && !layout.shape.empty() && item_count_ > 0 &&
                    layout.shape.front() % static_cast<std::int64_t>(item_count_) == 0 &&
                    data_bytes == element_count(layout.shape) * element_size(layout.type) &&
                    data_bytes % item_count_ == 0;
  if (!fits) {
    throw Error(fmt::format("{}: not the stacked output of {} items (shape {}, {} data bytes)", file.partial.string(),
                            item_count_, shape_to_string(layout.shape), data_bytes));
  }
  file.data_offset = layout.data_offset;
  file.item_bytes = per_item(data_bytes, item_count_);
}

void StackedNpySink::share(const std::vector<std::string>& output_names) {
  shared_ = true;
  resumable_ = true;  // the files outlive this sink: rank 0 makes them final, or a resume continues them
  output_names_ = output_names;
}

namespace {

// Holds an open-file-description lock on the whole of `fd` (released when the descriptor closes, or by
// the destructor): unlike a POSIX record lock it excludes other descriptors of the same process too.
class FileLock {
 public:
  FileLock(int fd, const std::filesystem::path& path) : fd_(fd) {
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    while (::fcntl(fd_, F_OFD_SETLKW, &lock) != 0) {
      if (errno != EINTR) throw Error(os_error(path, "cannot lock"));
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() {
    struct flock lock {};
    lock.l_type = F_UNLCK;
    lock.l_whence = SEEK_SET;
    static_cast<void>(::fcntl(fd_, F_OFD_SETLK, &lock));
  }

 private:
  int fd_;
};

}  // namespace

bool StackedNpySink::open_shared(const TensorSet* first) {
  std::vector<File> opened;
  for (std::size_t k = 0; k < output_names_.size(); ++k) {
    File file;
    file.path = final_path(dir_, output_names_[k]);
    file.partial = partial_path(dir_, output_names_[k]);
    const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | (first != nullptr ? O_CREAT : 0);
    file.fd = detail::FileDescriptor(::open(file.partial.c_str(), flags, 0644));
    if (!file.fd.is_open()) {
      if (first == nullptr && errno == ENOENT) return false;  // nobody has written yet: rows are zero when made
      throw Error(os_error(file.partial, "cannot open the shared output"));
    }
    const FileLock lock(file.fd.get(), file.partial);
    struct stat info {};
    if (::fstat(file.fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
      throw Error(fmt::format("{}: not a regular file", file.partial.string()));
    }
    if (info.st_size > 0) {
      read_layout(file);  // another rank's (or an earlier run's) layout: this one's items must fit it
      if (file.type == ElementType::String) {
        throw Error(fmt::format("{}: string outputs are not stacked by several processes", file.partial.string()));
      }
    } else {
      if (first == nullptr) return false;
      if (first->size() != output_names_.size() || (*first)[k].name != output_names_[k]) {
        throw RejectedItem(fmt::format("{} outputs, the model has {}", first->size(), output_names_.size()));
      }
      const Tensor& tensor = (*first)[k].tensor;
      if (tensor.element_type() == ElementType::String) {
        throw Error(fmt::format("output '{}': string outputs are not stacked by several processes (--per-item)",
                                output_names_[k]));
      }
      // The first writer lays the file out, whole, under the lock: the others find it complete.
      take_layout(file, tensor);
      lay_out(file);
    }
    opened.push_back(std::move(file));
  }
  files_ = std::move(opened);
  return true;
}

void StackedNpySink::make_final(const std::filesystem::path& dir, const std::vector<std::string>& output_names) {
  for (const auto& name : output_names) {
    const auto partial = partial_path(dir, name);
    const detail::FileDescriptor fd(::open(partial.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.is_open()) {
      if (errno == ENOENT) continue;  // no rank wrote it (every item failed), or made final already
      throw Error(os_error(partial, "cannot make final"));
    }
    sync_data(fd.get(), partial);
    std::error_code ec;
    std::filesystem::rename(partial, final_path(dir, name), ec);
    if (ec) throw Error(fmt::format("{}: cannot rename into place: {}", final_path(dir, name).string(), ec.message()));
  }
}

void StackedNpySink::write(std::size_t index, const std::string& /*name*/, const TensorSet& outputs) {
  if (files_.empty()) {
    if (shared_) {
      static_cast<void>(open_shared(&outputs));
    } else {
      open_files(outputs);
    }
  }
  if (outputs.size() != files_.size()) {
    throw RejectedItem(fmt::format("{} outputs, the first item had {}", outputs.size(), files_.size()));
  }
  // Checked before any byte is written: a rejected item leaves its rows zero in every file.
  std::vector<std::string> records(files_.size());
  for (std::size_t k = 0; k < files_.size(); ++k) {
    const Tensor& tensor = outputs[k].tensor;
    if (tensor.element_type() != files_[k].type || stacked_shape(tensor.shape(), item_count_) != files_[k].stacked) {
      throw RejectedItem(fmt::format(
          "output '{}' of shape {} does not stack with the first item's {} (write each item apart: --per-item)",
          outputs[k].name, shape_to_string(tensor.shape()),
          shape_to_string(item_shape(files_[k].stacked, item_count_))));
    }
    if (files_[k].spool) {
      try {
        records[k] = StringSpool::encode(tensor);
      } catch (const Error& e) {
        throw RejectedItem(fmt::format("output '{}': {}", outputs[k].name, e.what()));
      }
    }
  }
  for (std::size_t k = 0; k < files_.size(); ++k) {
    File& file = files_[k];
    if (file.final_already) continue;
    if (file.spool) {
      file.spool->append(index, records[k]);
    } else {
      write_all_at(file.fd.get(), file.partial, outputs[k].tensor.bytes(), file.data_offset + index * file.item_bytes);
    }
  }
  ++accounted_;
}

void StackedNpySink::fail(const ItemFailure& failure) {
  // Shared: another rank may have made the files (or an earlier run left rows there to zero).
  if (shared_ && files_.empty()) static_cast<void>(open_shared(nullptr));
  // Zero rows, also where an earlier, interrupted run may have written this item's rows before it
  // failed this time (or where a rejected item's rows were never written: zero already).
  for (File& file : files_) {
    if (file.final_already) continue;
    if (file.spool) {
      file.spool->append_empty(failure.index);  // outlives a record an interrupted run may have left
      continue;
    }
    const std::vector<std::byte> zeros(file.item_bytes);
    write_all_at(file.fd.get(), file.partial, zeros, file.data_offset + failure.index * file.item_bytes);
  }
  ++accounted_;
}

void StackedNpySink::kept(std::size_t /*index*/, const std::string& /*name*/) {
  ++accounted_;
}

void StackedNpySink::kept_failure(const ItemFailure& /*failure*/) {
  ++accounted_;  // its rows were zeroed and synced before the journal said it failed
}

void StackedNpySink::sync() {
  for (File& file : files_) {
    if (file.spool) {
      file.spool->sync();
      continue;
    }
    if (!file.fd.is_open()) continue;
    sync_data(file.fd.get(), file.partial);
  }
}

void StackedNpySink::finish() {
  if (shared_) {
    sync();  // rank 0 makes the files final once every rank is done
    complete_ = false;
    return;
  }
  complete_ = accounted_ == item_count_;
  if (!complete_) return;  // the destructor removes the partial files, or keeps them for a resume
  for (File& file : files_) {
    if (file.final_already) continue;
    if (file.spool) {
      // The width is known now: the .npy is laid out from the spool, then made final like the others.
      static_cast<void>(file.spool->write_npy(file.partial));
    } else {
      sync_data(file.fd.get(), file.partial);
      if (file.fd.close() != 0) throw Error(os_error(file.partial, "cannot write"));
    }
    std::error_code ec;
    std::filesystem::rename(file.partial, file.path, ec);
    if (ec) throw Error(fmt::format("{}: cannot rename into place: {}", file.path.string(), ec.message()));
    if (file.spool) file.spool->remove();  // only once the .npy is final: until then a resume needs it
  }
}

FailureLog::FailureLog(std::filesystem::path path) : path_(std::move(path)), temporary_(path_.string() + ".partial") {}

FailureLog::~FailureLog() {
  // Not finished (the run threw): no log under its final name, and no temporary left behind.
  if (out_.is_open()) {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(temporary_, ec);
  }
}

void FailureLog::fail(const ItemFailure& failure) {
  if (!out_.is_open()) {
    out_.open(temporary_, std::ios::trunc);
    if (!out_) throw Error(fmt::format("{}: cannot write the failure log", temporary_.string()));
  }
  const nlohmann::json line{
      {"index", failure.index}, {"name", failure.name}, {"worker", failure.worker}, {"cause", failure.cause}};
  out_ << line.dump() << '\n';
  if (!out_) throw Error(fmt::format("{}: cannot write the failure log", temporary_.string()));
}

void FailureLog::finish() {
  if (!out_.is_open()) return;
  out_.close();
  if (!out_) throw Error(fmt::format("{}: cannot write the failure log", temporary_.string()));
  std::error_code ec;
  std::filesystem::rename(temporary_, path_, ec);
  if (ec) throw Error(fmt::format("{}: cannot rename the failure log: {}", path_.string(), ec.message()));
}

}  // namespace onnxpool
