#include "onnxpool/pipeline/source.hpp"

#include <cstring>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "onnxpool/tensor/tensor_io.hpp"
#include "pipeline/mapped_file.hpp"

namespace onnxpool {

RandomSource::RandomSource(ModelInfo model, DimBindings bindings, std::vector<InputFile> files, std::uint64_t seed,
                           std::size_t count)
    : model_(std::move(model)),
      bindings_(std::move(bindings)),
      files_(std::move(files)),
      file_tensors_(read_input_files(model_, files_)),
      seed_(seed),
      count_(count) {
  // What would fail every item alike (a dim no binding gives, a file the model refuses) stops the run
  // here, before any work, not item by item: item 0 is made once to find out.
  if (count_ > 0) static_cast<void>(read(0));
}

TensorSet RandomSource::read(std::size_t index) {
  return inputs_from_files(model_, files_, file_tensors_, bindings_, seed_ + static_cast<std::uint64_t>(index));
}

// One mapped array: where item i's rows are, and the shape each item has.
struct ArraySource::Array {
  std::string input;
  std::filesystem::path path;
  std::shared_ptr<MappedFile> file;  // shared with the views of its rows in flight
  NpyLayout layout{};
  Shape item_shape{};  // [k, ...the array's other dims]
  std::size_t item_bytes = 0;
  std::size_t released_to = 0;  // the pages before this offset have been handed back
};

namespace {

// An item's rows lent out as a view (no copy): the mapping stays while any tensor of them lives, and
// their pages are handed back when the last one goes, after the worker has run them.
class RowsLease {
 public:
  RowsLease(std::shared_ptr<const MappedFile> file, std::size_t offset, std::size_t size)
      : file_(std::move(file)), offset_(offset), size_(size) {}
  RowsLease(const RowsLease&) = delete;
  RowsLease& operator=(const RowsLease&) = delete;
  ~RowsLease() { file_->release(offset_, size_); }

 private:
  std::shared_ptr<const MappedFile> file_;
  std::size_t offset_;
  std::size_t size_;
};

// The rows an item of `input` takes: its fixed first dim, its batch dim as bound, else 1.
std::int64_t rows_per_item(const ValueInfo& input, const DimBindings& bindings) {
  if (const auto given = bindings.shape_of_input.find(input.name); given != bindings.shape_of_input.end()) {
    if (!given->second.empty()) return given->second.front();
  }
  if (input.shape.empty()) return 1;
  const Dim& first = input.shape.front();
  if (first.fixed()) return first.value;
  if (const auto bound = bindings.by_name.find(first.symbol);
      !first.symbol.empty() && bound != bindings.by_name.end()) {
    return bound->second;
  }
  return 1;
}

}  // namespace

ArraySource::ArraySource(ModelInfo model, DimBindings bindings, const std::vector<DataFile>& arrays,
                         std::vector<InputFile> files, std::uint64_t seed)
    : model_(std::move(model)), bindings_(std::move(bindings)), seed_(seed) {
  for (const DataFile& data : arrays) {
    const ValueInfo& input = model_.input(data.input);  // throws for an input the model lacks
    Array array{.input = data.input, .path = data.file, .file = std::make_shared<MappedFile>(data.file)};
    const std::string source = data.file.string();
    array.layout = parse_npy_layout(array.file->bytes(), source);
    const Shape& shape = array.layout.shape;
    if (shape.empty()) throw Error(fmt::format("{}: a rank-0 array has no first dim to index items", source));
    const std::int64_t k = rows_per_item(input, bindings_);
    if (k < 1 || shape.front() % k != 0) {
      throw Error(fmt::format("{}: {} rows do not make whole items of {} rows (input '{}')", source, shape.front(), k,
                              input.name));
    }
    array.item_shape = shape;
    array.item_shape.front() = k;
    const std::size_t element_bytes =
        array.layout.type == ElementType::String ? 4 * array.layout.string_width : element_size(array.layout.type);
    array.item_bytes = element_count(array.item_shape) * element_bytes;
    const auto items = static_cast<std::size_t>(shape.front() / k);
    if (arrays_.empty()) {
      count_ = items;
    } else if (items != count_) {
      throw Error(
          fmt::format("{} gives {} items but {} gives {}", arrays_.front().path.string(), count_, source, items));
    }
    for (const Array& other : arrays_) {
      if (other.input == array.input) throw Error(fmt::format("input '{}' is given two arrays", array.input));
    }
    arrays_.push_back(std::move(array));
  }
  // The arrays' inputs come first among the files: their tensors are made per item in read().
  std::vector<InputFile> all;
  for (const Array& array : arrays_) all.push_back({.input = array.input, .file = array.path});
  const std::vector<Tensor> given = read_input_files(model_, files);
  for (const auto& file : files) {
    for (const Array& array : arrays_) {
      if (array.input == file.input) throw Error(fmt::format("input '{}' is given an array and a file", file.input));
    }
  }
  all.insert(all.end(), files.begin(), files.end());
  files_ = std::move(all);
  file_tensors_.resize(arrays_.size());
  file_tensors_.insert(file_tensors_.end(), given.begin(), given.end());
  // What would fail every item alike (a shape the model refuses, an unbound dim) stops the run here.
  if (count_ > 0) static_cast<void>(read(0));
}

ArraySource::~ArraySource() = default;

TensorSet ArraySource::read(std::size_t index) {
  for (std::size_t a = 0; a < arrays_.size(); ++a) {
    Array& array = arrays_[a];
    const std::size_t offset = array.layout.data_offset + index * array.item_bytes;
    const auto bytes = array.file->bytes().subspan(offset, array.item_bytes);
    // Where the layout allows (host byte order, no bools to normalise), the rows are a view of the
    // mapping: nothing is copied on this thread, the worker reads them where they are.
    const bool viewable = array.layout.type != ElementType::String && array.layout.type != ElementType::Bool &&
                          !array.layout.big_endian && array.item_bytes > 0;
    if (viewable) {
      file_tensors_[a] = Tensor::view(array.layout.type, array.item_shape, bytes.data(),
                                      std::make_shared<RowsLease>(array.file, offset, array.item_bytes));
      continue;
    }
    Tensor rows;
    if (array.layout.type == ElementType::String) {
      rows = Tensor::from_strings(
          array.item_shape,
          strings_from_npy(array.layout, bytes, element_count(array.item_shape), array.path.string()));
    } else {
      rows = Tensor(array.layout.type, array.item_shape);
      std::memcpy(rows.raw_data(), bytes.data(), array.item_bytes);
      npy_to_host(array.layout, rows.bytes());
    }
    // Pages are handed back in runs of 8 MiB, not item by item: each release interrupts the cores the
    // workers run on (a TLB shootdown).
    constexpr std::size_t kReleaseRun = std::size_t{8} << 20;
    const std::size_t end = offset + array.item_bytes;
    if (offset < array.released_to) {
      array.file->release(offset, array.item_bytes);  // read again, out of order
    } else if (end - array.released_to >= kReleaseRun) {
      array.file->release(array.released_to, end - array.released_to);
      array.released_to = end;
    }
    file_tensors_[a] = std::move(rows);
  }
  return inputs_from_files(model_, files_, file_tensors_, bindings_, seed_ + static_cast<std::uint64_t>(index));
}

DataSetSource::DataSetSource(ModelInfo model, const std::filesystem::path& dir)
    : model_(std::move(model)), dir_(dir), folders_(data_set_folders(dir)) {}

DataSetSource::DataSetSource(ModelInfo model, std::vector<std::filesystem::path> entries)
    : model_(std::move(model)), folders_(std::move(entries)) {}

std::string DataSetSource::name(std::size_t index) const {
  const auto& folder = folders_.at(index);
  if (dir_.empty()) return folder.string();  // a list's entry: its path names it
  return folder == dir_ ? std::string() : folder.filename().string();
}

TensorSet DataSetSource::read(std::size_t index) {
  const auto& entry = folders_.at(index);
  if (std::filesystem::is_directory(entry)) return load_data_set(model_, entry, name(index)).inputs;
  // A tensor file: the input of a one-input model.
  if (model_.inputs.size() != 1) {
    throw Error(fmt::format("{}: a file gives one input, the model has {} (list folders instead)", entry.string(),
                            model_.inputs.size()));
  }
  TensorSet item{{model_.inputs.front().name, read_tensor_file(entry).tensor}};
  try {
    check_inputs(model_, item);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", entry.string(), e.what()));
  }
  return item;
}

TensorSet DataSetSource::expected(std::size_t index) const {
  const auto& entry = folders_.at(index);
  return std::filesystem::is_directory(entry) ? load_expected_outputs(model_, entry) : TensorSet{};
}

}  // namespace onnxpool
