#pragma once
// The onnxpool commands. Each adds its subcommand to the app and returns the function that runs it
// once parsing succeeded; the function returns the process exit code.
#include <functional>
#include <string>

#include <onnxruntime_cxx_api.h>
#include <CLI/CLI.hpp>

#include "onnxpool/error.hpp"
#include "onnxpool/pool/pool_config.hpp"

namespace onnxpool::cli {

using Command = std::function<int()>;

// Exit codes: 0 success, 1 error (one line on stderr), 2 usage error (CLI11's), 3 outputs differ from
// the expected ones (--compare).
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitMismatch = 3;
inline constexpr int kExitItemsFailed = 4;  // the run completed, but some items failed (the others' results kept)

// A flag's value that only the model shows to be wrong (a --dim no input has): a usage error like those
// CLI11 finds while parsing, exit status kExitUsage.
class UsageError : public Error {
 public:
  using Error::Error;
};

// What forces a refused configuration, as the CLI's flag: "; --oversubscribe runs it anyway", or "".
inline std::string force_hint(const ConfigError& e) {
  return e.force().empty() ? std::string() : "; --" + e.force() + " runs it anyway";
}

// ONNX Runtime's own log level for the commands: only fatal messages, since every error reaches the
// user as onnxpool's one line anyway; warnings and errors with the global -v, everything ONNX Runtime
// says (device discovery, provider loading, partitioning) with -vv.
// How many times the global -v was given.
inline std::size_t verbosity(const CLI::App& app) {
  const auto* root = &app;
  while (root->get_parent() != nullptr) root = root->get_parent();
  return root->get_option("--verbose")->count();
}

inline OrtLoggingLevel ort_log_level(const CLI::App& app) {
  const std::size_t verbosity = cli::verbosity(app);
  if (verbosity == 0) return ORT_LOGGING_LEVEL_FATAL;
  return verbosity == 1 ? ORT_LOGGING_LEVEL_WARNING : ORT_LOGGING_LEVEL_VERBOSE;
}

Command add_info(CLI::App& app);
Command add_devices(CLI::App& app);
Command add_run(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_merge(CLI::App& app);

}  // namespace onnxpool::cli
