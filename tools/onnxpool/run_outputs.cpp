#include "run_outputs.hpp"

#include <cstdio>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "options.hpp"

namespace onnxpool::cli {

// (With --resume the folder is the earlier run's: RunJournal::resume checks it instead.)
void prepare_output_dir(const std::filesystem::path& dir, bool overwrite, bool resumable) {
  std::error_code ec;
  if (!overwrite && std::filesystem::is_directory(dir, ec)) {
    std::filesystem::directory_iterator entries(dir, ec);
    if (!ec && entries != std::filesystem::directory_iterator()) {
      if (resumable && std::filesystem::exists(dir / RunJournal::kFileName, ec)) {
        throw Error(
            fmt::format("{}: the output folder holds an unfinished run; --resume continues it, --overwrite "
                        "starts again",
                        dir.string()));
      }
      throw Error(
          fmt::format("{}: the output folder is not empty ({} ...); give another folder, or --overwrite to "
                      "write over what is there",
                      dir.string(), entries->path().filename().string()));
    }
  }
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw Error(fmt::format("{}: cannot create the output folder: {}", dir.string(),
                            ec ? ec.message() : "a file of that name exists"));
  }
  write_file_atomically(dir / ".onnxpool-write-check", {});
  std::filesystem::remove(dir / ".onnxpool-write-check", ec);
}

namespace {

// --top-k's options, checked before the run: the first output holds float scores, stacked, and the
// labels (when given) name each of its classes where its shape says how many there are.
TopKOptions top_k_options(std::size_t k, const std::string& labels, const ModelInfo& model, bool stacked) {
  if (!stacked) throw Error("--top-k ranks the stacked outputs: it does not go with outputs written per item");
  const ValueInfo& scores = model.outputs.front();
  if (!is_floating(scores.type) || scores.type == ElementType::BFloat16) {
    throw Error(fmt::format("--top-k: the model's first output '{}' holds {}, not float scores", scores.name,
                            element_type_name(scores.type)));
  }
  TopKOptions options{.k = k, .labels = {}};
  if (labels.empty()) return options;
  options.labels = with_flag("--labels", [&] { return read_labels(labels); });
  std::int64_t classes = 1;
  for (std::size_t d = 1; d < scores.shape.size(); ++d) {
    if (!scores.shape[d].fixed()) return options;  // known at the first result only
    classes *= scores.shape[d].value;
  }
  if (scores.shape.size() > 1 && static_cast<std::int64_t>(options.labels.size()) < classes) {
    throw Error(fmt::format("--labels: {} labels in {} for the {} classes of output '{}'", options.labels.size(),
                            labels, classes, scores.name));
  }
  return options;
}

}  // namespace

RunOutputs::RunOutputs(Options options, const ModelInfo& model, const Source& source,
                       const std::function<std::string(bool stacked)>& identity)
    : options_(std::move(options)), model_(model), source_(source) {
  if (!options_.resume) prepare_output_dir(options_.dir, options_.overwrite);
  // Stacked unless asked otherwise or impossible: bfloat16 (numpy has no such dtype), or an output whose
  // shape the inputs do not set (it may vary between items).
  const std::string varying = StackedNpySink::varying_output(model_);
  stacked_ = stacks(model_, options_.per_item);
  if (!options_.per_item && !stacked_) {
    const std::string why = varying.empty() ? std::string("an output holds bfloat16, which numpy cannot hold")
                                            : fmt::format("output '{}' may have another shape for each item", varying);
    fmt::print(stderr, "onnxpool: note: {}: each item's outputs go to a folder of its own (as --per-item)\n", why);
  }
  if (options_.shared && stacked_) {
    // numpy's '<U n' needs the longest string of all items before the first row: not across processes.
    for (const auto& declared : model_.outputs) {
      if (declared.type == ElementType::String) {
        throw Error(
            fmt::format("output '{}' holds strings, which several processes cannot stack into one file: "
                        "--per-item writes them, or run one process",
                        declared.name));
      }
    }
  }
  if (options_.top_k > 0) top_k_ = top_k_options(options_.top_k, options_.labels, model_, stacked_);
  const std::string whole_identity = identity(stacked_);
  identity_ = whole_identity;
  if (options_.shard) {
    // A shard's journal is continued only by the same shard of the same run; its manifest carries the
    // whole run's identity, which every shard of the run shares (merge compares them).
    auto with_shard = nlohmann::json::parse(whole_identity);
    with_shard["shard"] = options_.shard->to_string();
    identity_ = with_shard.dump();
    nlohmann::json extras = nlohmann::json::object();
    if (options_.top_k > 0) {
      const std::string labels = options_.labels.empty() ? "" : std::filesystem::absolute(options_.labels).string();
      extras["top_k"] = {{"k", options_.top_k}, {"labels", labels}};
    }
    manifest_.emplace(ShardManifest{.shard = *options_.shard,
                                    .items = options_.whole_items,
                                    .range = options_.shard->range_of(options_.whole_items),
                                    .identity = whole_identity,
                                    .layout = stacked_ ? "stacked" : "per-item",
                                    .outputs = {},
                                    .failed = 0,
                                    .extras = extras.dump()});
    manifest_->outputs = model_.output_names();
    first_item_ = manifest_->range.begin;
  }
  if (options_.resume) {
    // A resume that is not this run's is refused here, before any work.
    try {
      journal_.emplace(RunJournal::resume(options_.dir / RunJournal::kFileName, source_.size(), identity_, resumed_));
    } catch (const Error& e) {
      throw Error(fmt::format("--resume: {}; --overwrite starts the run again", e.what()));
    }
  }
}

Sink& RunOutputs::open() {
  const auto& dir = options_.dir;
  const std::size_t items = source_.size();
  if (!journal_) journal_.emplace(RunJournal::start(dir / RunJournal::kFileName, items, identity_));
  std::vector<Sink*> files;
  if (stacked_) {
    stacked_sink_.emplace(dir, items, /*resumable=*/true);
    if (options_.resume) stacked_sink_->resume(model_.output_names(), resumed_.done, earlier_results());
    files.push_back(&*stacked_sink_);
  } else {
    // A shard's items are named as in the whole run: a one-item shard of a larger run gets a folder.
    per_item_sink_.emplace(dir, options_.shard ? options_.whole_items : items);
    if (options_.resume) per_item_sink_->resume();
    per_item_shown_.emplace(*per_item_sink_, first_item_);
    files.push_back(&*per_item_shown_);
  }
  failure_sink_.emplace(failure_log());
  failures_shown_.emplace(*failure_sink_, first_item_);
  files.push_back(&*failures_shown_);
  if (top_k_) {
    // Made from the stacked file once it is final (top_k.hpp): after the outputs' sink in the fan. Rows
    // are the shard's own (local indices), the names the whole run's.
    ranking_.emplace(StackedNpySink::final_path(dir, model_.outputs.front().name), dir / "top_k.csv", items, *top_k_,
                     [this](std::size_t i) {
                       std::string name = source_.name(i);
                       return name.empty() ? std::to_string(first_item_ + i) : name;
                     });
    files.push_back(&*ranking_);
  }
  if (manifest_) {
    // Last, once the other files are final, and before the journal goes: a run that dies in between
    // leaves both, which merge refuses as unfinished and --resume completes.
    manifest_sink_.emplace(dir, *manifest_);
    files.push_back(&*manifest_sink_);
  }
  files_.emplace(files);
  // Every result is on disk before the journal says so; commits once a second (journal.hpp).
  journaled_.emplace(*files_, *journal_);
  return *journaled_;
}

bool RunOutputs::stacks(const ModelInfo& model, bool per_item) {
  std::vector<ElementType> types;
  for (const auto& declared : model.outputs) types.push_back(declared.type);
  return !per_item && StackedNpySink::stackable(types) && StackedNpySink::varying_output(model).empty();
}

std::unique_ptr<Sink> RunOutputs::rank_sink(const std::filesystem::path& dir, const ModelInfo& model, std::size_t items,
                                            bool stacked, bool resume) {
  if (!stacked) {
    auto sink = std::make_unique<PerItemNpySink>(dir, items);
    if (resume) sink->resume();
    return sink;
  }
  auto sink = std::make_unique<StackedNpySink>(dir, items, /*resumable=*/true);
  sink->share(model.output_names());
  return sink;
}

RunJournal& RunOutputs::open_shared() {
  const auto& dir = options_.dir;
  if (!journal_) journal_.emplace(RunJournal::start(dir / RunJournal::kFileName, source_.size(), identity_));
  // Rows are continued only where an earlier run wrote some; otherwise the files are laid out anew by the
  // first rank to write.
  if (stacked_ && !earlier_results()) {
    for (const auto& declared : model_.outputs) {
      std::error_code ec;
      std::filesystem::remove(StackedNpySink::partial_path(dir, declared.name), ec);
      std::filesystem::remove(StackedNpySink::spool_path(dir, declared.name), ec);
    }
  }
  return *journal_;
}

bool RunOutputs::finish_shared(const RunHandOut& hand_out) {
  if (!hand_out.finished()) return false;
  const auto& dir = options_.dir;
  if (stacked_) StackedNpySink::make_final(dir, model_.output_names());
  // The whole run's failures, in index order, as a single run appends them.
  FailureLog log(failure_log());
  for (const auto& failure : hand_out.failures()) log.fail(failure);
  log.finish();
  if (top_k_) {
    const auto scores = StackedNpySink::final_path(dir, model_.outputs.front().name);
    if (std::filesystem::exists(scores)) {
      const std::vector<bool> failed = hand_out.failed_items();
      write_top_k_csv(
          scores, source_.size(), *top_k_, [this](std::size_t i) { return source_.name(i); },
          [&failed](std::size_t i) { return failed[i]; }, dir / "top_k.csv");
    }
  }
  journal_->remove();
  return true;
}

}  // namespace onnxpool::cli
