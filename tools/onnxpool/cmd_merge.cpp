// onnxpool merge SHARD_DIR... --output DIR: the folders of a run's shards (run --shard K/N) combined
// into the files one run over every item writes (pipeline/merge.hpp).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "onnxpool/pipeline/merge.hpp"
#include "options.hpp"
#include "run_outputs.hpp"

namespace onnxpool::cli {
namespace {

struct MergeArgs {
  std::vector<std::string> shards;
  std::string output_dir;
  bool overwrite = false;
  bool quiet = false;
};

}  // namespace

Command add_merge(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge", "Combine the output folders of a run's shards (run --shard K/N)");
  cmd->footer(
      "Examples:\n"
      "  onnxpool run model.onnx --data input=images.npy --shard 0/3 --output parts/0   (and 1/3, 2/3)\n"
      "  onnxpool merge parts/0 parts/1 parts/2 --output scores/\n"
      "Writes DIR/<output>.npy for each output, every item's rows in item order, with DIR/failures.jsonl\n"
      "and DIR/top_k.csv when the shards have them: the files one run over all the items writes. Every\n"
      "shard must be given once, each completed (shard.json there, no .onnxpool-journal) and of the same\n"
      "run (model, inputs, options); each file is written as FILE.partial and renamed once all are complete.\n"
      "Shards run with --per-item need no merge: their item folders are named as in the whole run.\n"
      "Exit status: 0 ok, 1 error, 2 bad usage.");
  auto args = std::make_shared<MergeArgs>();
  cmd->add_option("shards", args->shards, "The shards' output folders, in any order")
      ->required()
      ->check(not_empty("a folder"))
      ->type_name("SHARD_DIR");
  cmd->add_option("-o,--output", args->output_dir, "Write the whole run's files into DIR")
      ->required()
      ->type_name("DIR")
      ->check(not_empty("a folder"));
  cmd->add_flag("--overwrite", args->overwrite,
                "Write into a folder that already holds files (files of the same names are replaced)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print no summary");

  return [args] {
    const std::vector<std::filesystem::path> shards(args->shards.begin(), args->shards.end());
    prepare_output_dir(args->output_dir, args->overwrite, /*resumable=*/false);
    const MergeSummary done = merge_shards(shards, args->output_dir);
    if (!args->quiet) {
      std::vector<std::string> names;
      for (const auto& file : done.files) names.push_back(file.filename().string());
      fmt::print("merged {} shards: {} items ({} failed) into {}: {}\n", done.shards, done.items, done.failed,
                 args->output_dir, names.empty() ? std::string("no files") : fmt::format("{}", fmt::join(names, ", ")));
    }
    return 0;
  };
}

}  // namespace onnxpool::cli
