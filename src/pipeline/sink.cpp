#include "onnxpool/pipeline/sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <span>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/os_reason.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {

void SinkFan::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  for (Sink* sink : sinks_) sink->write(index, name, outputs);
}

void SinkFan::fail(const ItemFailure& failure) {
  for (Sink* sink : sinks_) sink->fail(failure);
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

void PerItemNpySink::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  // A name that is one plain file name names the item's folder; anything else (a path from a list,
  // "..") could land outside the output folder: the index names it then.
  const bool plain = !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
  const auto folder = item_count_ == 1 ? dir_ : dir_ / (plain ? name : fmt::format("item_{}", index));
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the folder: {}", folder.string(), ec.message()));
  for (const auto& output : outputs) write_npy(folder / (file_name_for(output.name) + ".npy"), output.tensor);
}

// One stacked output file: its final and temporary names, an open descriptor, and what every item's
// part of it is (element type, row shape, rows per item, bytes per item).
struct StackedNpySink::File {
  std::filesystem::path path;
  std::filesystem::path temporary;
  int fd = -1;
  ElementType type = ElementType::Undefined;
  Shape item_shape;  // the first result's: every item must match it
  std::size_t item_bytes = 0;
  std::size_t data_offset = 0;  // the header's size

  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  File(File&& other) noexcept
      : path(std::move(other.path)),
        temporary(std::move(other.temporary)),
        fd(std::exchange(other.fd, -1)),
        type(other.type),
        item_shape(std::move(other.item_shape)),
        item_bytes(other.item_bytes),
        data_offset(other.data_offset) {}
  File& operator=(File&&) = delete;
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

std::string os_error(const std::filesystem::path& path, std::string_view what) {
  return fmt::format("{}: {}: {}", path.string(), what, detail::os_reason(errno));
}

// All of `bytes` at `offset`, whatever pwrite's partial writes and interruptions.
void write_at(int fd, const std::filesystem::path& path, std::span<const std::byte> bytes, std::size_t offset) {
  while (!bytes.empty()) {
    const ssize_t done = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) throw Error(os_error(path, "cannot write"));
    bytes = bytes.subspan(static_cast<std::size_t>(done));
    offset += static_cast<std::size_t>(done);
  }
}

// The stacked shape of N items of `item`: [N*k, ...] for [k, ...], [N] for a rank-0 item.
Shape stacked_shape(const Shape& item, std::size_t count) {
  if (item.empty()) return {static_cast<std::int64_t>(count)};
  Shape shape = item;
  shape.front() *= static_cast<std::int64_t>(count);
  return shape;
}

}  // namespace

StackedNpySink::StackedNpySink(std::filesystem::path dir, std::size_t item_count)
    : dir_(std::move(dir)), item_count_(item_count) {}

StackedNpySink::~StackedNpySink() {
  // Not finished, or finished incomplete: nothing under a final name, no temporary left behind.
  for (File& file : files_) {
    if (file.fd < 0) continue;
    ::close(file.fd);
    file.fd = -1;
    std::error_code ec;
    std::filesystem::remove(file.temporary, ec);
  }
}

bool StackedNpySink::stackable(const std::vector<ElementType>& output_types) {
  return std::none_of(output_types.begin(), output_types.end(),
                      [](ElementType t) { return t == ElementType::String || t == ElementType::BFloat16; });
}

void StackedNpySink::open_files(const TensorSet& first) {
  for (const auto& output : first) {
    File file;
    file.path = dir_ / (file_name_for(output.name) + ".npy");
    file.temporary = fmt::format("{}.tmp.{}", file.path.string(), ::getpid());
    file.type = output.tensor.element_type();
    file.item_shape = output.tensor.shape();
    file.item_bytes = output.tensor.byte_size();
    const auto header = npy_header(file.type, stacked_shape(file.item_shape, item_count_));
    file.data_offset = header.size();
    file.fd = ::open(file.temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (file.fd < 0) throw Error(os_error(file.temporary, "cannot create"));
    files_.push_back(std::move(file));
    File& made = files_.back();
    // The whole file's size up front: the rows of items not written (failed) read as zeros.
    if (::ftruncate(made.fd, static_cast<off_t>(made.data_offset + made.item_bytes * item_count_)) != 0) {
      throw Error(os_error(made.temporary, "cannot size"));
    }
    write_at(made.fd, made.temporary, header, 0);
  }
}

void StackedNpySink::write(std::size_t index, const std::string& /*name*/, const TensorSet& outputs) {
  if (files_.empty()) open_files(outputs);
  if (outputs.size() != files_.size()) {
    throw RejectedItem(fmt::format("{} outputs, the first item had {}", outputs.size(), files_.size()));
  }
  // Checked before any byte is written: a rejected item leaves its rows zero in every file.
  for (std::size_t k = 0; k < files_.size(); ++k) {
    const Tensor& tensor = outputs[k].tensor;
    if (tensor.element_type() != files_[k].type || tensor.shape() != files_[k].item_shape) {
      throw RejectedItem(fmt::format(
          "output '{}' of shape {} does not stack with the first item's {} (write each item apart: --per-item)",
          outputs[k].name, shape_to_string(tensor.shape()), shape_to_string(files_[k].item_shape)));
    }
  }
  for (std::size_t k = 0; k < files_.size(); ++k) {
    const File& file = files_[k];
    write_at(file.fd, file.temporary, outputs[k].tensor.bytes(), file.data_offset + index * file.item_bytes);
  }
  ++accounted_;
}

void StackedNpySink::fail(const ItemFailure& /*failure*/) {
  ++accounted_;
}

void StackedNpySink::finish() {
  complete_ = accounted_ == item_count_;
  if (!complete_) return;  // the destructor removes the temporaries
  for (File& file : files_) {
    if (::close(std::exchange(file.fd, -1)) != 0) throw Error(os_error(file.temporary, "cannot write"));
    std::error_code ec;
    std::filesystem::rename(file.temporary, file.path, ec);
    if (ec) throw Error(fmt::format("{}: cannot rename into place: {}", file.path.string(), ec.message()));
  }
}

FailureLog::FailureLog(std::filesystem::path path)
    : path_(std::move(path)), temporary_(fmt::format("{}.tmp.{}", path_.string(), ::getpid())) {}

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
