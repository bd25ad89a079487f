// onnxpool run MODEL ...: streams every item through the pool (read as the workers are ready for it,
// written as it completes), keeps every good result when items fail, compares outputs with expected
// ones, and prints a throughput summary.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "onnxpool/bench/measure.hpp"
#include "onnxpool/distributed/launcher.hpp"
#include "onnxpool/pipeline/progress.hpp"
#include "onnxpool/pipeline/sink.hpp"
#include "onnxpool/pipeline/source.hpp"
#include "onnxpool/pipeline/stream.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "options.hpp"
#include "run_args.hpp"
#include "run_outputs.hpp"
#include "run_ranks.hpp"
#include "run_shard.hpp"
#include "run_summary.hpp"
#include "signal_stop.hpp"

namespace onnxpool::cli {

// What makes two runs the same run, for --resume (journal.hpp): the model file, where the items come
// from, and how the outputs are laid out. The pool's shape (workers, threads, batch) may change between
// a run and its resume. Files are named with their size and modification time, so that a file
// replaced in between is noticed.
std::string run_identity(const RunArgs& args, bool stacked) {
  const auto file = [](const std::string& path) -> nlohmann::json {
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(path, ec);
    const auto size = std::filesystem::file_size(path, ec);
    const auto changed = std::filesystem::last_write_time(path, ec);
    return {{"path", (ec ? std::filesystem::path(path) : absolute).string()},
            {"size", ec ? 0 : size},
            {"mtime_ns", ec ? 0 : std::chrono::file_clock::to_sys(changed).time_since_epoch().count()}};
  };
  const auto files = [&](const std::vector<std::string>& named) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& text : named) {
      const auto eq = text.find('=');
      list.push_back(
          {{"name", text.substr(0, eq)}, {"file", file(eq == std::string::npos ? text : text.substr(eq + 1))}});
    }
    return list;
  };
  // Image folders by path (their files are the source's items, named in failures), files with their size.
  const auto images = [&](const std::vector<std::string>& paths) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& path : paths) {
      list.push_back(std::filesystem::is_directory(path) ? nlohmann::json(std::filesystem::absolute(path).string())
                                                         : file(path));
    }
    return list;
  };
  const InputArgs& in = args.inputs;
  const nlohmann::json identity{{"model", file(args.model)},
                                {"inputs", in.inputs_dir.empty() ? nlohmann::json() : file(in.inputs_dir)},
                                {"list", in.list_file.empty() ? nlohmann::json() : file(in.list_file)},
                                {"data", files(in.data_files)},
                                {"input_files", files(in.input_files)},
                                {"random", in.random},
                                {"seed", in.seed},
                                {"dims", in.dims},
                                {"shapes", in.shapes},
                                {"images", images(in.images)},
                                {"preprocessing",
                                 {{"shorter_side", in.shorter_side},
                                  {"resize", in.plain_resize},
                                  {"bgr", in.bgr},
                                  {"mean", in.mean},
                                  {"std", in.std}}},
                                {"layout", stacked ? "stacked" : "per-item"}};
  return identity.dump();
}

Command add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a model over many inputs with a pool of workers");
  cmd->footer(
      "Examples:\n"
      "  onnxpool run mobilenetv2.onnx --random 16 --workers 2 --output scores/\n"
      "  onnxpool run model.onnx --data input=images.npy --output scores/   (np.load('scores/output.npy'))\n"
      "  onnxpool run model.onnx --inputs test_data_set_0 --compare test_data_set_0\n"
      "  onnxpool run gpt2_tiny.onnx --random 8 --dim batch=1 --dim seq=32 --policy static\n"
      "  onnxpool run mobilenetv2.onnx --images photos/ --top-k 5 --labels synsets.txt --output scores/\n"
      "Outputs are written as <output name>.npy, the items' rows stacked in item order (--per-item: a folder\n"
      "per item); a folder that already holds files is refused unless --overwrite.\n"
      "Items are read as the workers are ready for them and written as they complete (memory stays flat).\n"
      "An item that fails costs only itself: the others' outputs are written, the failed ones are listed in\n"
      "DIR/failures.jsonl (index, name, worker, cause).\n"
      "SIGINT/SIGTERM stop taking items; those in flight finish. The same command with --resume continues a\n"
      "run stopped by a signal, a crash or kill -9, to the same files (journal: DIR/.onnxpool-journal).\n"
      "--shard K/N runs only the K-th of N contiguous parts of the items (K from 0) into --output DIR, for job\n"
      "arrays; `onnxpool merge` combines the N folders into the whole run's files.\n"
      "Exit status: 0 ok, 1 error, 2 bad usage, 3 outputs differ from --compare, 4 some items failed,\n"
      "128+N stopped by signal N.");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("model", args->model, "ONNX model file")->required();
  add_input_options(*cmd, args->inputs);
  add_pool_options(*cmd, args->pool);
  auto* output =
      cmd->add_option("-o,--output", args->output_dir,
                      "Write the outputs into DIR: one <output>.npy per output, the items stacked along the first dim")
          ->type_name("DIR")
          ->check(not_empty("a folder"));
  auto* overwrite = cmd->add_flag(
      "--overwrite", args->overwrite,
      "With --output: write into a folder that already holds files (files of the same names are replaced)");
  cmd->add_flag("--resume", args->resume,
                "Continue the unfinished run in --output DIR (same model and inputs): the items it finished are "
                "kept, the others run")
      ->needs(output)
      ->excludes(overwrite);
  cmd->add_flag("--per-item", args->per_item,
                "With --output: a folder per item (DIR/item_K/<output>.npy) instead of stacked files");
  auto* top_k = cmd->add_option("--top-k", args->top_k,
                                "With --output: also DIR/top_k.csv, the K best classes of each item by the "
                                "model's first output (item, rank, class, label, score)")
                    ->type_name("K")
                    ->check(CLI::Range(1, 1 << 20))
                    ->needs(output);
  cmd->add_option("--labels", args->labels, "With --top-k: the class names, one per line (line K names class K)")
      ->type_name("FILE")
      ->needs(top_k);
  cmd->add_option("--compare", args->compare_dir,
                  "Compare the outputs with DIR's expected ones (output_K.pb or <output>.npy, one folder per item)")
      ->type_name("DIR");
  cmd->add_option("--rtol", args->rtol, "Relative tolerance of --compare (floating types)")->capture_default_str();
  cmd->add_option("--atol", args->atol, "Absolute tolerance of --compare (floating types)")->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "Print no progress and no summary");
  cmd->add_option("--warmup", args->warmup,
                  "Run the first N items once before the timed run (GPU kernels and arenas warm up), not written")
      ->type_name("N")
      ->check(CLI::Range(0, 1 << 20));

  cmd->add_option("--max-failures", args->max_failures,
                  "Stop taking items after K have failed (the ones in flight finish); default: never stop")
      ->type_name("K")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--fail-fast", args->fail_fast, "Stop taking items at the first failure (--max-failures 1)");
  cmd->add_option("--window", args->window,
                  "Items read ahead and in flight at most (memory: about N items' inputs and outputs); default: "
                  "four times the items the workers take at once")
      ->type_name("N")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--shard", args->shard,
                  "Run shard K of N (K from 0): the K-th of N contiguous parts of the items, into --output DIR; "
                  "`onnxpool merge` combines the shards' folders")
      ->type_name("K/N")
      ->check(shard_check())
      ->needs(output);
  cmd->add_option("--json", args->json, "Write the run's summary (items, failures, time, workers) as JSON")
      ->type_name("FILE");

  // For tests of runs across ranks: a rank made slower than the others (each item read this much later).
  cmd->add_option("--test-item-delay", args->item_delay_ms)->group("")->check(CLI::Range(0.0, 60000.0));

  return [args, cmd] {
    // First, before any thread starts: SIGINT/SIGTERM/SIGHUP stop the run cleanly (signal_stop.hpp).
    const SignalStop signals;
    // One of several processes started by mpirun or srun: they share the items (run_ranks.hpp).
    if (const auto launch = detect_launch()) return run_across_ranks(*args, *cmd, *launch, signals);
    Runtime runtime(ort_log_level(*cmd));
    const ModelInfo model = inspect_model(runtime, args->model);
    TunedConfig tuned;  // what --config FILE holds, for -v
    PoolConfig config = pool_config(args->pool, &tuned);
    auto source = delayed(make_source(model, args->inputs), args->item_delay_ms);
    const std::optional<RunShard> shard = take_shard(args->shard, source);
    // No more workers than the items can keep busy; then what the machine cannot serve is refused here,
    // before an output folder is touched or a session made.
    config.items = source->size();
    config.check_machine(CpuTopology::detect());

    // The sinks, all fed each result in item order: the outputs and the failure log (with --output),
    // the comparison (with --compare), and the first failure for the summary line.
    std::vector<Sink*> sinks;
    std::optional<ExpectedOutputs> expected;
    if (!args->compare_dir.empty()) {
      expected.emplace(model, args->compare_dir, shard ? shard->whole_items : source->size(), args->rtol, args->atol);
      sinks.push_back(&*expected);
    }
    std::optional<RunOutputs> outputs;
    if (!args->output_dir.empty()) {
      outputs.emplace(RunOutputs::Options{.dir = args->output_dir,
                                          .overwrite = args->overwrite,
                                          .resume = args->resume,
                                          .per_item = args->per_item,
                                          .top_k = args->top_k,
                                          .labels = args->labels,
                                          .shard = shard ? std::optional(shard->spec) : std::nullopt,
                                          .whole_items = shard ? shard->whole_items : 0},
                      model, *source, [&](bool stacked) { return run_identity(*args, stacked); });
    }
    FirstFailure first_failure;
    sinks.push_back(&first_failure);
    // Progress on stderr: a bar redrawn ten times a second on a terminal, a line every five seconds in a
    // log; none with --quiet.
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    Progress progress(std::cerr, "run", source->size(), terminal);
    progress.set_min_interval(terminal ? 0.1 : 5.0);
    ProgressSink progress_sink(progress);
    if (!args->quiet) sinks.push_back(&progress_sink);
    Pool pool(runtime, args->model, config);
    // -v: what the pool is and why (the flags, --config, or the automatic choice).
    if (verbosity(*cmd) > 0)
      fmt::print(stderr, "onnxpool: {}\n", pool_choice(pool, config, pool_origin(args->pool, tuned)));
    // The comparison, the first failure and the progress see the whole run's item indices (a shard's
    // item i is its first item + i there), as the outputs show them.
    SinkFan shown(sinks);
    IndexOffsetSink shifted(shown, shard ? shard->range.begin : 0);
    std::vector<Sink*> fan{&shifted};
    // The outputs first: an item whose outputs the stacked sink rejects (another shape) reaches no other
    // sink as a result.
    if (outputs) fan.insert(fan.begin(), &outputs->open());
    SinkFan sink(fan);

    // --warmup N: one untimed pass over the first N items (read again for the run), whose work the
    // printed counters leave out.
    const auto warm_count = std::min(source->size(), static_cast<std::size_t>(args->warmup));
    StreamSummary done;
    const auto pass = [&](bool warmup) {
      if (warmup) {
        warm_up(pool, *source, warm_count);
      } else {
        try {
          done = run_stream(pool, *source, sink,
                            {.window = args->window,
                             .max_failures = args->fail_fast ? 1U : args->max_failures,
                             .stop = &signals.requested(),
                             .resume = outputs ? outputs->resumed() : nullptr});
        } catch (const Error& e) {
          // A run that could not write (a full disk, a folder removed under it) leaves its folder as an
          // interrupted run does: stacked files still .partial, the journal saying what is done.
          if (!outputs) throw;
          throw Error(fmt::format("{}; the folder keeps what was done: rerun with --resume to continue", e.what()));
        }
      }
    };
    const auto prepare = [&](bool warmup) {
      if (!warmup && args->warmup > 0) pool.reset_stats();
    };
    static_cast<void>(
        bench::measure({.prepare = prepare, .run = pass}, {.warmup = args->warmup > 0 ? 1U : 0U, .timed = 1}));

    const RunReport report{.model = args->model,
                           .items = source->size(),
                           .batch = config.batch,
                           .failures_file = outputs && done.failed > 0 ? outputs->failure_log().string() : ""};
    if (!args->quiet && shard) fmt::print("{}\n", shard->describe());
    if (!args->quiet) print_run_summary(report, done, pool);
    if (!args->json.empty()) write_run_json(args->json, report, done, pool);
    if (done.interrupted) {
      // The items in flight finished and were written, and the journal says which are done.
      std::fflush(stdout);
      const std::string next = outputs ? "; rerun with --resume to continue" : "";
      fmt::print(stderr, "onnxpool: interrupted after {} of {} items{}\n", done.items, source->size(), next);
      return 128 + signals.signal();
    }
    if (done.failed > 0) {
      // The good results are kept; one line says how many failed, where they are listed, and the first.
      std::fflush(stdout);
      const std::string log = outputs ? fmt::format(" ({})", outputs->failure_log().string()) : std::string();
      std::string stopped =
          done.stopped ? fmt::format(", stopped after {} of {} items", done.items, source->size()) : std::string();
      if (done.stopped && outputs) stopped += " (--resume continues)";
      fmt::print(stderr, "onnxpool: error: {} of {} items failed{}{}; first: {}\n", done.failed, source->size(), log,
                 stopped, first_failure.first());
      return kExitItemsFailed;
    }
    return expected && !expected->all_equal() ? kExitMismatch : 0;
  };
}

}  // namespace onnxpool::cli
