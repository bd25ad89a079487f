// onnxpool run MODEL ...: runs every item through the pool, writes the outputs as .npy, compares them
// with expected outputs, and prints a throughput summary.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "onnxpool/bench/measure.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/device.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "options.hpp"

namespace onnxpool::cli {
namespace {

struct RunArgs {
  std::string model;
  InputArgs inputs;
  PoolFlags pool;
  std::string output_dir;
  std::string compare_dir;
  double rtol = 1e-4;
  double atol = 1e-5;
  bool quiet = false;
  int warmup = 0;
};

// A file name from an output's name: ONNX names may hold '/' or ':'.
std::string file_name_for(const std::string& name) {
  std::string out = name;
  for (auto& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return out.empty() || out.front() == '.' ? "_" + out : out;
}

// Fails now, before any work, when the output folder cannot be made or written.
void prepare_output_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw Error(fmt::format("{}: cannot create the output folder: {}", dir.string(),
                            ec ? ec.message() : "a file of that name exists"));
  }
  write_file_atomically(dir / ".onnxpool-write-check", {});
  std::filesystem::remove(dir / ".onnxpool-write-check", ec);
}

std::vector<std::filesystem::path> item_folders(const std::filesystem::path& dir, const Items& items) {
  std::vector<std::filesystem::path> folders;
  for (std::size_t i = 0; i < items.inputs.size(); ++i) {
    if (items.inputs.size() == 1) {
      folders.push_back(dir);
    } else {
      folders.push_back(dir / (items.names[i].empty() ? fmt::format("item_{}", i) : items.names[i]));
    }
  }
  return folders;
}

// Compares every item's outputs with the expected ones; prints one line per output. True when all match.
bool compare_outputs(const std::vector<TensorSet>& outputs, const std::vector<TensorSet>& expected, const Items& items,
                     double rtol, double atol) {
  bool all_equal = true;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::string item = items.names[i].empty() ? fmt::format("item {}", i) : items.names[i];
    for (const auto& want : expected[i]) {
      const auto got =
          std::find_if(outputs[i].begin(), outputs[i].end(), [&](const auto& o) { return o.name == want.name; });
      if (got == outputs[i].end())
        throw Error(fmt::format("{}: expected output '{}' is not an output of the model", item, want.name));
      const Comparison c = compare(want.tensor, got->tensor, rtol, atol);
      all_equal = all_equal && c.equal;
      fmt::print("compare {} / {}: max abs error {:.3g}, max rel error {:.3g}: {}\n", item, want.name, c.max_abs_error,
                 c.max_rel_error, c.equal ? "OK" : "MISMATCH: " + c.problem);
    }
  }
  return all_equal;
}

}  // namespace

Command add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a model over many inputs with a pool of workers");
  cmd->footer(
      "Examples:\n"
      "  onnxpool run mobilenetv2.onnx --random 16 --workers 2 --output out/\n"
      "  onnxpool run model.onnx --input input=image.npy --output out/\n"
      "  onnxpool run model.onnx --inputs test_data_set_0 --compare test_data_set_0\n"
      "  onnxpool run gpt2_tiny.onnx --random 8 --dim batch=1 --dim seq=32 --policy static\n"
      "Outputs are written as <output name>.npy (one subfolder per item when there are several).\n"
      "Exit status: 0 ok, 1 error, 2 bad usage, 3 outputs differ from --compare.");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("model", args->model, "ONNX model file")->required();
  add_input_options(*cmd, args->inputs);
  add_pool_options(*cmd, args->pool);
  cmd->add_option("-o,--output", args->output_dir, "Write the outputs as .npy files into DIR")->type_name("DIR");
  cmd->add_option("--compare", args->compare_dir,
                  "Compare the outputs with DIR's expected ones (output_K.pb or <output>.npy, one folder per item)")
      ->type_name("DIR");
  cmd->add_option("--rtol", args->rtol, "Relative tolerance of --compare (floating types)")->capture_default_str();
  cmd->add_option("--atol", args->atol, "Absolute tolerance of --compare (floating types)")->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "Print no summary");
  cmd->add_option("--warmup", args->warmup,
                  "Run the first N items once before the timed run (GPU kernels and arenas warm up), not written")
      ->type_name("N")
      ->check(CLI::Range(0, 1 << 20));

  return [args, cmd] {
    Runtime runtime(ort_log_level(*cmd));
    const ModelInfo model = inspect_model(runtime, args->model);
    const PoolConfig config = pool_config(args->pool);
    Items items = make_items(model, args->inputs);

    std::vector<TensorSet> expected;
    if (!args->compare_dir.empty()) {
      for (const auto& folder : data_set_folders(args->compare_dir))
        expected.push_back(load_expected_outputs(model, folder));
      if (expected.size() != items.inputs.size()) {
        throw Error(fmt::format("{}: {} sets of expected outputs for {} items", args->compare_dir, expected.size(),
                                items.inputs.size()));
      }
      for (std::size_t i = 0; i < expected.size(); ++i) {
        if (expected[i].empty())
          throw Error(
              fmt::format("{}: no expected outputs (output_K.pb or <output>.npy) for item {}", args->compare_dir, i));
      }
    }
    if (!args->output_dir.empty()) prepare_output_dir(args->output_dir);

    Pool pool(runtime, args->model, config);
    // --warmup N: one untimed pass over the first N items, whose work the printed counters leave out.
    const auto warm_items = std::min(items.inputs.size(), static_cast<std::size_t>(args->warmup));
    std::vector<TensorSet> outputs;
    const auto pass = [&](bool warmup) {
      if (warmup) {
        static_cast<void>(
            pool.run_all({items.inputs.begin(), items.inputs.begin() + static_cast<std::ptrdiff_t>(warm_items)}));
      } else {
        outputs = pool.run_all(items.inputs);
      }
    };
    const auto prepare = [&](bool warmup) {
      if (!warmup && args->warmup > 0) pool.reset_stats();
    };
    const std::size_t count = items.inputs.size();
    const double seconds =
        bench::measure({.prepare = prepare, .run = pass}, {.warmup = args->warmup > 0 ? 1U : 0U, .timed = 1}).front();

    if (!args->output_dir.empty()) {
      const auto folders = item_folders(args->output_dir, items);
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        std::filesystem::create_directories(folders[i]);
        for (const auto& output : outputs[i])
          write_npy(folders[i] / (file_name_for(output.name) + ".npy"), output.tensor);
      }
    }
    const bool equal = expected.empty() || compare_outputs(outputs, expected, items, args->rtol, args->atol);

    if (!args->quiet) {
      const auto& plan = pool.plan();
      fmt::print("{} items in {:.3f} s: {:.2f} items/s ({} workers, {} policy, batch {})\n", count, seconds,
                 static_cast<double>(count) / seconds, plan.size(), policy_name(pool.policy()), config.batch);
      const auto stats = pool.stats();
      for (std::size_t w = 0; w < stats.size(); ++w) {
        // What the worker is: "1 thread", "2 threads on cores 0,1", "GPU 0"; then its batch when it stacks.
        const auto& p = plan[w];
        std::string what = p.device.kind == DeviceKind::Cuda
                               ? fmt::format("GPU {}", p.device.index)
                               : fmt::format("{} thread{}", p.threads, p.threads == 1 ? "" : "s");
        if (!p.cores.empty()) what += fmt::format(" on cores {}", fmt::join(p.cores, ","));
        if (p.batch > 1) what += fmt::format(", batch {}", p.batch);
        fmt::print("  {:<8} {:<20} {:>5} items  {:>4} runs  busy {:.3f} s\n", stats[w].name, what, stats[w].items,
                   stats[w].runs, stats[w].busy_seconds);
      }
    }
    return equal ? 0 : kExitMismatch;
  };
}

}  // namespace onnxpool::cli
