#include "onnxpool/pipeline/merge.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_descriptor.hpp"
#include "common/file_io.hpp"
#include "common/one_line.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/pipeline/journal.hpp"
#include "onnxpool/pipeline/shard.hpp"
#include "onnxpool/pipeline/sink.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "pipeline/json_difference.hpp"
#include "pipeline/mapped_file.hpp"

namespace onnxpool {
namespace {

namespace fs = std::filesystem;
using detail::os_error;

// Bytes copied at once from a shard's file: memory stays flat however large the files.
constexpr std::size_t kCopyBytes = std::size_t{8} << 20;

struct Shard {
  fs::path dir;
  ShardManifest manifest;
  [[nodiscard]] std::size_t items() const { return manifest.range.size(); }
  // Whether some item of the shard ran: only then has it stacked files (the first result makes them).
  [[nodiscard]] bool has_rows() const { return manifest.failed < items(); }
  [[nodiscard]] std::string named() const {
    return fmt::format("shard {} ({})", manifest.shard.to_string(), dir.string());
  }
};

// A run that did not complete leaves its journal, or files still under their temporary names.
void refuse_unfinished(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / RunJournal::kFileName, ec)) {
    throw Error(
        fmt::format("{}: the shard's run did not finish ({} is there): complete it with the same run and "
                    "--resume",
                    dir.string(), RunJournal::kFileName));
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".partial")) {
      throw Error(fmt::format("{}: the shard's run did not finish ({} is there)", dir.string(), name));
    }
  }
}

Shard read_shard(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(fmt::format("{}: {}", dir.string(), fs::exists(dir, ec) ? "not a folder" : "no such folder"));
  }
  refuse_unfinished(dir);
  if (!fs::exists(dir / ShardManifest::kFileName, ec)) {
    throw Error(fmt::format("{}: no {}: not the folder of a completed `onnxpool run --shard`", dir.string(),
                            ShardManifest::kFileName));
  }
  return {.dir = dir, .manifest = ShardManifest::read(dir)};
}

// `what` of `shard` differs from `first`'s (both JSON objects): they are not shards of one run.
void refuse_difference(const Shard& shard, const Shard& first, const std::string& was, const std::string& is,
                       std::string_view what) {
  const auto a = nlohmann::json::parse(was);
  const auto b = nlohmann::json::parse(is);
  if (a == b) return;
  const JsonDifference d = first_difference(a, b);
  throw Error(one_line(fmt::format("{}: not a shard of the same run as {}: its {} {} is {}, the other's {}",
                                   shard.dir.string(), first.dir.string(), what, d.field, d.is, d.was)));
}

// The folders' shards, checked to be those of one run, each once, in shard order.
std::vector<Shard> read_shards(const std::vector<fs::path>& dirs) {
  if (dirs.empty()) throw Error("no shard folders to merge");
  std::vector<Shard> shards;
  shards.reserve(dirs.size());
  for (const auto& dir : dirs) shards.push_back(read_shard(dir));
  const Shard& first = shards.front();
  for (const Shard& shard : shards) {
    const ShardManifest& a = first.manifest;
    const ShardManifest& b = shard.manifest;
    if (a.shard.count != b.shard.count || a.items != b.items) {
      throw Error(fmt::format(
          "{}: shard {} of a run of {} items, but {} is shard {} of {} items: not shards of one run",
          shard.dir.string(), b.shard.to_string(), b.items, first.dir.string(), a.shard.to_string(), a.items));
    }
    refuse_difference(shard, first, a.identity, b.identity, "run's");
    refuse_difference(shard, first, a.extras, b.extras, "option");
    if (a.outputs != b.outputs) {
      throw Error(
          fmt::format("{}: not a shard of the same run as {}: other outputs", shard.dir.string(), first.dir.string()));
    }
  }
  std::stable_sort(shards.begin(), shards.end(),
                   [](const Shard& a, const Shard& b) { return a.manifest.shard.index < b.manifest.shard.index; });
  for (std::size_t i = 1; i < shards.size(); ++i) {
    if (shards[i].manifest.shard == shards[i - 1].manifest.shard) {
      throw Error(fmt::format("{} and {} are both shard {}: each shard must be given once", shards[i - 1].dir.string(),
                              shards[i].dir.string(), shards[i].manifest.shard.to_string()));
    }
  }
  const std::size_t count = first.manifest.shard.count;
  for (std::size_t k = 0; k < count; ++k) {
    if (k >= shards.size() || shards[k].manifest.shard.index != k) {
      throw Error(
          fmt::format("shard {}/{} is missing: {} of the run's {} shards given", k, count, shards.size(), count));
    }
  }
  return shards;
}

// One shard's part of a stacked output: its file mapped (null when the shard has none) and its layout.
struct Part {
  const Shard* shard = nullptr;
  fs::path path;
  std::unique_ptr<MappedFile> file;
  NpyLayout layout;
};

// A stacked output of the whole run, from its shards' parts.
struct Output {
  std::string file_name;  // "<output>.npy"
  std::vector<Part> parts;
  ElementType type = ElementType::Undefined;
  Shape row;                      // each row's shape (the stacked shape without its first dim)
  std::size_t rows_per_item = 0;  // an item of shape [k, ...] has k rows
  std::size_t width = 0;          // strings: the widest shard's '<U n'
};

// Output `name`'s parts, each checked to hold exactly its shard's items' rows, of one type and row shape.
// nullopt when no shard has the file (every item failed): the whole run has none either.
std::optional<Output> plan_output(const std::string& name, const std::vector<Shard>& shards) {
  Output output;
  output.file_name = file_name_for(name) + ".npy";
  std::optional<std::size_t> reference;  // the first part with a file: the others must match it
  for (const Shard& shard : shards) {
    Part part{.shard = &shard, .path = shard.dir / output.file_name, .file = nullptr, .layout = {}};
    std::error_code ec;
    if (!fs::exists(part.path, ec)) {
      if (shard.has_rows()) {
        throw Error(fmt::format("{}: missing: {} has {} items that ran", part.path.string(), shard.named(),
                                shard.items() - shard.manifest.failed));
      }
      output.parts.push_back(std::move(part));
      continue;
    }
    part.file = std::make_unique<MappedFile>(part.path);
    part.layout = parse_npy_layout(part.file->bytes(), part.path.string());  // a file cut short is refused here
    const Shape& shape = part.layout.shape;
    const std::size_t rows = shape.empty() ? 0 : static_cast<std::size_t>(shape.front());
    if (part.layout.big_endian || shape.empty() || shard.items() == 0 || rows % shard.items() != 0 || rows == 0) {
      throw Error(fmt::format("{}: not the stacked output of the shard's {} items (shape {})", part.path.string(),
                              shard.items(), shape_to_string(shape)));
    }
    const Shape row(shape.begin() + 1, shape.end());
    const std::size_t per_item = rows / shard.items();
    if (!reference) {
      output.type = part.layout.type;
      output.row = row;
      output.rows_per_item = per_item;
    } else if (part.layout.type != output.type || row != output.row || per_item != output.rows_per_item) {
      throw Error(fmt::format(
          "{}: {} rows of shape {}, {} per item; {} has {} rows of shape {}, {} per item: not outputs of one run",
          part.path.string(), element_type_name(part.layout.type), shape_to_string(row), per_item,
          output.parts[*reference].path.string(), element_type_name(output.type), shape_to_string(output.row),
          output.rows_per_item));
    }
    output.width = std::max(output.width, part.layout.string_width);
    if (!reference) reference = output.parts.size();
    output.parts.push_back(std::move(part));
  }
  if (!reference) return std::nullopt;
  return output;
}

// The files written so far under their temporary names, renamed into place together once all are
// complete, or removed when the merge fails.
class Temporaries {
 public:
  Temporaries() = default;
  Temporaries(const Temporaries&) = delete;
  Temporaries& operator=(const Temporaries&) = delete;
  ~Temporaries() {
    if (committed_) return;
    std::error_code ec;
    for (const auto& [partial, final] : files_) fs::remove(partial, ec);
  }
  // Where `final` is written until commit().
  fs::path add(const fs::path& final) {
    files_.emplace_back(fs::path(final.string() + ".partial"), final);
    return files_.back().first;
  }
  std::vector<fs::path> commit() {
    std::vector<fs::path> done;
    for (const auto& [partial, final] : files_) {
      std::error_code ec;
      fs::rename(partial, final, ec);
      if (ec) throw Error(fmt::format("{}: cannot rename into place: {}", final.string(), ec.message()));
      done.push_back(final);
    }
    committed_ = true;
    return done;
  }

 private:
  std::vector<std::pair<fs::path, fs::path>> files_;
  bool committed_ = false;
};

// The whole run's stacked file at `path`: its header, then each shard's rows at the offset of its first
// item. Rows of shards without a file stay zeros (the file is sized first), as a failed item's rows are.
void write_output(const Output& output, std::size_t items, const fs::path& path) {
  Shape shape = output.row;
  shape.insert(shape.begin(), static_cast<std::int64_t>(items * output.rows_per_item));
  const auto header = npy_header(output.type, shape, output.width);
  const bool strings = output.type == ElementType::String;
  const std::size_t element_bytes = strings ? 4 * output.width : element_size(output.type);
  const std::size_t item_bytes = output.rows_per_item * element_count(output.row) * element_bytes;
  detail::FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.is_open()) throw Error(os_error(path, "cannot create"));
  if (::ftruncate(fd.get(), static_cast<off_t>(header.size() + items * item_bytes)) != 0) {
    throw Error(os_error(path, "cannot size"));
  }
  detail::write_all_at(fd.get(), path, header, 0);
  std::vector<std::byte> padded;
  for (const Part& part : output.parts) {
    if (!part.file) continue;
    const auto data = part.file->bytes().subspan(part.layout.data_offset);
    const std::size_t at = header.size() + part.shard->manifest.range.begin * item_bytes;
    const std::size_t from_bytes = strings ? 4 * part.layout.string_width : element_bytes;
    if (from_bytes == element_bytes) {
      for (std::size_t done = 0; done < data.size(); done += kCopyBytes) {
        const auto piece = data.subspan(done, std::min(kCopyBytes, data.size() - done));
        detail::write_all_at(fd.get(), path, piece, at + done);
        part.file->release(part.layout.data_offset + done, piece.size());
      }
      continue;
    }
    // A narrower '<U n' than the whole run's: each element's code units, then zeros up to the width.
    const std::size_t elements = data.size() / from_bytes;
    const std::size_t per_piece = std::max<std::size_t>(1, kCopyBytes / element_bytes);
    for (std::size_t first = 0; first < elements; first += per_piece) {
      const std::size_t count = std::min(per_piece, elements - first);
      padded.assign(count * element_bytes, std::byte{0});
      for (std::size_t e = 0; e < count; ++e) {
        std::memcpy(padded.data() + e * element_bytes, data.data() + (first + e) * from_bytes, from_bytes);
      }
      detail::write_all_at(fd.get(), path, padded, at + first * element_bytes);
      part.file->release(part.layout.data_offset + first * from_bytes, count * from_bytes);
    }
  }
  detail::sync_data(fd.get(), path);
  if (fd.close() != 0) throw Error(os_error(path, "cannot write"));
}

// Each shard's failures.jsonl in shard order into `path`, each line checked to name one of its shard's
// items, and their count to be the manifest's.
void write_failures(const std::vector<Shard>& shards, const fs::path& path) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw Error(fmt::format("{}: cannot write", path.string()));
  for (const Shard& shard : shards) {
    const fs::path log = shard.dir / "failures.jsonl";
    std::error_code ec;
    if (!fs::exists(log, ec)) {
      if (shard.manifest.failed == 0) continue;
      throw Error(
          fmt::format("{}: missing: {} has {} failed items", log.string(), shard.named(), shard.manifest.failed));
    }
    std::ifstream in(log);
    if (!in) throw Error(fmt::format("{}: cannot read", log.string()));
    std::size_t lines = 0;
    for (std::string line; std::getline(in, line); ++lines) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        throw Error(fmt::format("{}: line {} is not a failure record", log.string(), lines + 1));
      }
      const ItemRange range = shard.manifest.range;
      if (!j.is_object() || !j.contains("index") || !j["index"].is_number_unsigned() ||
          j["index"].get<std::size_t>() < range.begin || j["index"].get<std::size_t>() >= range.end) {
        throw Error(fmt::format("{}: line {} names no item of {} (items {}..{})", log.string(), lines + 1,
                                shard.named(), range.begin, range.end));
      }
      out << line << '\n';
    }
    if (lines != shard.manifest.failed) {
      throw Error(
          fmt::format("{}: {} failures, but {} has {}", log.string(), lines, shard.named(), shard.manifest.failed));
    }
  }
  out.close();
  if (!out) throw Error(fmt::format("{}: cannot write", path.string()));
}

// Each shard's top_k.csv (of the shards with rows; the others have none) into `path`: the header once.
void write_top_k(const std::vector<Shard>& shards, const fs::path& path) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw Error(fmt::format("{}: cannot write", path.string()));
  std::optional<std::string> header;
  for (const Shard& shard : shards) {
    if (!shard.has_rows()) continue;
    const fs::path csv = shard.dir / "top_k.csv";
    std::ifstream in(csv);
    std::string first;
    if (!in || !std::getline(in, first))
      throw Error(fmt::format("{}: missing or empty: {} ran with --top-k", csv.string(), shard.named()));
    if (!header) {
      header = first;
      out << first << '\n';
    } else if (first != *header) {
      throw Error(fmt::format("{}: another header than the other shards' top_k.csv", csv.string()));
    }
    for (std::string line; std::getline(in, line);) out << line << '\n';
  }
  out.close();
  if (!out) throw Error(fmt::format("{}: cannot write", path.string()));
}

}  // namespace

MergeSummary merge_shards(const std::vector<std::filesystem::path>& shard_dirs, const std::filesystem::path& out) {
  const std::vector<Shard> shards = read_shards(shard_dirs);
  const ShardManifest& first = shards.front().manifest;
  for (const Shard& shard : shards) {
    std::error_code ec;
    if (fs::equivalent(shard.dir, out, ec)) {
      throw Error(fmt::format("{}: the output folder is {}'s: give another", out.string(), shard.named()));
    }
  }
  if (first.layout != "stacked") {
    throw Error(
        "per-item shards need no merge: each item's folder is already named as in the whole run (item_<index> or "
        "the item's name); move the item folders into one folder, and concatenate the shards' failures.jsonl in "
        "shard order");
  }
  MergeSummary summary{.shards = shards.size(), .items = first.items, .failed = 0, .files = {}};
  for (const Shard& shard : shards) summary.failed += shard.manifest.failed;

  // Everything read and checked first; then written.
  std::vector<Output> outputs;
  for (const auto& name : first.outputs) {
    if (auto output = plan_output(name, shards)) outputs.push_back(std::move(*output));
  }
  const bool any_rows = std::any_of(shards.begin(), shards.end(), [](const Shard& s) { return s.has_rows(); });
  const bool top_k = nlohmann::json::parse(first.extras).contains("top_k");

  Temporaries files;
  for (const Output& output : outputs) write_output(output, first.items, files.add(out / output.file_name));
  if (summary.failed > 0) write_failures(shards, files.add(out / "failures.jsonl"));
  if (top_k && any_rows) write_top_k(shards, files.add(out / "top_k.csv"));
  summary.files = files.commit();
  return summary;
}

}  // namespace onnxpool
