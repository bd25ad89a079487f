#pragma once
// Options shared by `run` and `bench`: where the items come from, and how the pool is made.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/pipeline/source.hpp"
#include "onnxpool/pool/pool_config.hpp"
#include "onnxpool/pool/tuned_config.hpp"
#include "onnxpool/runtime/model.hpp"

namespace onnxpool::cli {

// Runs `parse` with the flag named in front of the library's error, which says what is wrong without
// naming any flag: "--dim 'x': expected NAME=VALUE", "--grid: unknown key 'cores'". (A ConfigError
// passes through: main names its field's flag.)
template <class Parse>
auto with_flag(std::string_view flag, Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    const std::string_view what = e.what();
    throw Error(fmt::format("{}{}{}", flag, what.starts_with('\'') ? " " : ": ", what));
  }
}

// A check for flags whose value may not be empty ("--output ''" would write nothing, anywhere).
CLI::Validator not_empty(std::string what);

struct InputArgs {
  std::vector<std::string> input_files;  // NAME=FILE
  std::vector<std::string> data_files;   // NAME=FILE.npy, the first dim indexing the items
  std::string inputs_dir;
  std::string list_file;  // one data-set folder (or one-input tensor file) per line
  int random = 0;
  std::vector<std::string> dims;    // NAME=VALUE
  std::vector<std::string> shapes;  // INPUT:D0,D1,...
  std::uint64_t seed = 0;
  // Images (--images, or a --list of image files) and their preprocessing.
  std::vector<std::string> images;  // files and folders
  std::int64_t shorter_side = 0;
  bool plain_resize = false;
  bool bgr = false;
  std::string mean;  // "R,G,B"
  std::string std;
};
void add_input_options(CLI::App& cmd, InputArgs& args);

// The items to run, read as they are taken: one per image of --images (or of a --list of image files),
// one per data set of --inputs or entry of --list, one per row of --data, else --random N items
// (default 1), each with the --input files and random values (seed + item index) for the other inputs.
// Errors that would fail every item (an unbound dim, a bad --input) are thrown here, with the flag.
std::unique_ptr<Source> make_source(const ModelInfo& model, const InputArgs& args);

// The pool flags fill one PoolConfig directly; the few that arrive as text (policy, devices, spinning)
// are kept beside it and converted once, by pool_config(), which also names the flag of a rule the
// library's validate() refuses.
struct PoolFlags {
  PoolConfig config;
  std::string policy = "dynamic";
  std::string devices;
  std::string spinning;     // "", "on", "off"
  std::string config_file;  // --config FILE: a tuned configuration (pool/tuned_config.hpp)
  // The options, to tell a flag given from its default: a flag given wins over --config's value.
  const CLI::Option* workers_option = nullptr;
  const CLI::Option* threads_option = nullptr;
  const CLI::Option* batch_option = nullptr;
  const CLI::Option* policy_option = nullptr;
};
void add_pool_options(CLI::App& cmd, PoolFlags& flags);
// The configuration the flags say: with --config FILE, the file's workers, threads, batch and policy
// where no flag gives them (a note on stderr when FILE was tuned on a machine of another CPU count).
// `tuned`, when given, receives the file read (untouched without --config).
PoolConfig pool_config(const PoolFlags& flags, TunedConfig* tuned = nullptr);
// Where the pool's shape comes from, for `run -v`: "as given (--workers 2)", "from --config FILE
// (measured ...)", or "automatic". `tuned`: what pool_config() read from --config.
std::string pool_origin(const PoolFlags& flags, const TunedConfig& tuned);

}  // namespace onnxpool::cli
