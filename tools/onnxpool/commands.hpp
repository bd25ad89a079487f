#pragma once
// The onnxpool commands. Each adds its subcommand to the app and returns the function that runs it
// once parsing succeeded; the function returns the process exit code.
#include <functional>

#include <CLI/CLI.hpp>

namespace onnxpool::cli {

using Command = std::function<int()>;

// Exit codes: 0 success, 1 error (one line on stderr), 2 usage error (CLI11's), 3 outputs differ from
// the expected ones (--compare).
inline constexpr int kExitError = 1;
inline constexpr int kExitMismatch = 3;

Command add_info(CLI::App& app);
Command add_devices(CLI::App& app);
Command add_run(CLI::App& app);

}  // namespace onnxpool::cli
