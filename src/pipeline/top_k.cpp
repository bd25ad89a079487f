#include "onnxpool/pipeline/top_k.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "pipeline/mapped_file.hpp"

namespace onnxpool {
namespace {

// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180), quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

// Row `row` of `classes` scores as floats, whatever the file's floating type.
void scores_of(const std::byte* data, ElementType type, std::size_t classes, std::vector<float>& out) {
  out.resize(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    if (type == ElementType::Float) {
      std::memcpy(&out[c], data + c * sizeof(float), sizeof(float));
    } else if (type == ElementType::Double) {
      double value = 0.0;
      std::memcpy(&value, data + c * sizeof(double), sizeof(double));
      out[c] = static_cast<float>(value);
    } else {
      std::uint16_t bits = 0;
      std::memcpy(&bits, data + c * sizeof(bits), sizeof(bits));
      out[c] = half_to_float(bits);
    }
  }
}

}  // namespace

void write_top_k_csv(const std::filesystem::path& stacked, std::size_t items, const TopKOptions& options,
                     const std::function<std::string(std::size_t)>& name,
                     const std::function<bool(std::size_t)>& failed, const std::filesystem::path& csv) {
  const MappedFile file(stacked);
  const NpyLayout layout = parse_npy_layout(file.bytes(), stacked.string());
  const bool floating =
      layout.type == ElementType::Float || layout.type == ElementType::Double || layout.type == ElementType::Float16;
  if (!floating || layout.big_endian) {
    throw Error(
        fmt::format("{}: --top-k ranks float scores, not {}", stacked.string(), element_type_name(layout.type)));
  }
  // [N*k, C, ...]: k rows of C classes per item (the dims after the first multiplied: [N,1000,1,1] ranks 1000).
  const std::size_t total_rows = layout.shape.empty() ? 1 : static_cast<std::size_t>(layout.shape.front());
  const std::size_t classes = element_count(layout.shape) / std::max<std::size_t>(total_rows, 1);
  if (items == 0 || total_rows % items != 0 || classes == 0) {
    throw Error(
        fmt::format("{}: shape {} is not {} items' scores", stacked.string(), shape_to_string(layout.shape), items));
  }
  if (!options.labels.empty() && options.labels.size() < classes) {
    throw Error(fmt::format("--labels: {} labels for {} classes", options.labels.size(), classes));
  }
  const std::size_t rows_per_item = total_rows / items;
  const std::size_t row_bytes = classes * element_size(layout.type);
  const std::size_t k = std::min(options.k, classes);

  const std::filesystem::path partial = csv.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    if (!out) throw Error(fmt::format("{}: cannot write", partial.string()));
    out << "item,rank,class,label,score\n";
    std::vector<float> scores;
    std::vector<std::size_t> order(classes);
    for (std::size_t item = 0; item < items; ++item) {
      if (failed(item)) continue;
      std::string item_name = name(item);
      if (item_name.empty()) item_name = std::to_string(item);
      for (std::size_t row = 0; row < rows_per_item; ++row) {
        const std::size_t at = layout.data_offset + (item * rows_per_item + row) * row_bytes;
        scores_of(file.bytes().data() + at, layout.type, classes, scores);
        std::iota(order.begin(), order.end(), std::size_t{0});
        // NaN ranks last (as -inf): a comparison with it would break the sort's ordering.
        for (float& v : scores) {
          if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();
        }
        std::partial_sort(
            order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
        const std::string row_name = csv_field(rows_per_item == 1 ? item_name : fmt::format("{}#{}", item_name, row));
        for (std::size_t rank = 0; rank < k; ++rank) {
          const std::size_t c = order[rank];
          out << fmt::format("{},{},{},{},{:.7g}\n", row_name, rank + 1, c,
                             options.labels.empty() ? std::string() : csv_field(options.labels[c]), scores[c]);
        }
      }
      // Pages of the rows ranked are handed back: a million items' scores do not stay resident.
      file.release(layout.data_offset + item * rows_per_item * row_bytes, rows_per_item * row_bytes);
    }
    out.flush();
    if (!out) throw Error(fmt::format("{}: cannot write", partial.string()));
  }
  std::error_code ec;
  std::filesystem::rename(partial, csv, ec);
  if (ec) throw Error(fmt::format("{}: cannot rename into place: {}", csv.string(), ec.message()));
}

TopKSink::TopKSink(std::filesystem::path stacked, std::filesystem::path csv, std::size_t items, TopKOptions options,
                   std::function<std::string(std::size_t)> name)
    : stacked_(std::move(stacked)),
      csv_(std::move(csv)),
      items_(items),
      options_(std::move(options)),
      name_(std::move(name)),
      failed_(items, false) {}

void TopKSink::write(std::size_t /*index*/, const std::string& /*name*/, const TensorSet& /*outputs*/) {
  ++accounted_;
}

void TopKSink::fail(const ItemFailure& failure) {
  if (failure.index < failed_.size()) failed_[failure.index] = true;
  ++accounted_;
}

void TopKSink::kept(std::size_t /*index*/, const std::string& /*name*/) {
  ++accounted_;
}

void TopKSink::finish() {
  if (accounted_ != items_ || !std::filesystem::exists(stacked_)) return;  // stopped early, or nothing ran
  write_top_k_csv(
      stacked_, items_, options_, name_, [this](std::size_t i) { return failed_[i]; }, csv_);
}

}  // namespace onnxpool
