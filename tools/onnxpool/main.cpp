// onnxpool: runs one ONNX model over many inputs across the machine's cores and GPUs.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "common/one_line.hpp"
#include "onnxpool/distributed/launcher.hpp"
#include "onnxpool/error.hpp"
#include "onnxpool/pool/pool_config.hpp"

int main(int argc, char** argv) {
  using namespace onnxpool::cli;
  // The process's malloc policy, the application's to choose: glibc gives each worker thread its own
  // heap, each keeping what the worker freed, which made the peak RSS of 4 MobileNetV2 workers vary
  // from 106 to 131 MB. One heap: 100-105 MB, at the same model throughput (bench/results/SUMMARY.md).
  // MALLOC_ARENA_MAX in the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
  // A fixed mmap threshold: glibc's default one moves up the first time a large block (an item's
  // tensor) is freed, and from then on such blocks stay on the heap; when that happens decides the
  // peak, which varied by 10 MB from one `run --random` of MobileNetV2 to the next (86-99 MB). Fixed at
  // 4 MiB, items' tensors are always heap blocks, freed ones reused: 84-86 MB every run, same
  // throughput. MALLOC_MMAP_THRESHOLD_ in the environment still wins.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 4 << 20);
  CLI::App app{"onnxpool: run one ONNX model over many inputs as fast as the machine allows (ONNX Runtime)"};
  app.require_subcommand(1);
  // -v/-vv also after the command (`onnxpool run model.onnx -v`, as the README and issue 10 write `run
  // -v`): options a command does not know fall through to this one's.
  app.fallthrough();
  app.add_flag("-v,--verbose")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->description("Show ONNX Runtime's warnings and errors as it logs them; -vv: all of its log");
  app.footer(
      "Examples:\n"
      "  onnxpool info model.onnx\n"
      "  onnxpool devices\n"
      "  onnxpool run model.onnx --random 64 --workers 2\n"
      "  onnxpool run model.onnx --inputs test_data_set_0 --compare test_data_set_0\n"
      "  onnxpool bench mobilenetv2.onnx --csv bench.csv --plot bench\n"
      "  onnxpool merge parts/0 parts/1 parts/2 --output scores/   (after run --shard K/3 --output parts/K)\n"
      "Run 'onnxpool COMMAND --help' for a command's options.");
  const std::map<std::string, Command> commands{{"info", add_info(app)},
                                                {"devices", add_devices(app)},
                                                {"run", add_run(app)},
                                                {"bench", add_bench(app)},
                                                {"merge", add_merge(app)}};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A usage error: one line, like every other error, and the exit status scripts expect for usage.
    // Under mpirun every process finds the same: the first one says it.
    if (const auto launch = onnxpool::detect_launch(); launch && launch->rank != 0) return kExitUsage;
    fmt::print(stderr, "onnxpool: error: {} (see --help)\n", onnxpool::one_line(e.what()));
    return kExitUsage;
  }
  try {
    for (const auto* sub : app.get_subcommands()) return commands.at(sub->get_name())();
  } catch (const UsageError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "onnxpool: error: {} (see --help)\n", onnxpool::one_line(e.what()));
    return kExitUsage;
  } catch (const onnxpool::ConfigError& e) {
    // The library names the field; the CLI names its flag (`--batch 4: ...`).
    std::fflush(stdout);
    fmt::print(stderr, "onnxpool: error: {}\n",
               onnxpool::one_line(fmt::format("--{} {}: {}{}", e.field(), e.value(), e.what(), force_hint(e))));
    return kExitError;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    // One of several processes (mpirun): which one says it.
    const auto launch = onnxpool::detect_launch();
    const std::string who = launch && launch->rank != 0 ? fmt::format("rank {}: ", launch->rank) : std::string();
    fmt::print(stderr, "onnxpool: error: {}{}\n", who, onnxpool::one_line(e.what()));
    return kExitError;
  }
  return kExitError;
}
