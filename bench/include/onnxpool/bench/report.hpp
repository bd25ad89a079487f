#pragma once
// Writers for `onnxpool bench` results: the tutorial's CSV (so a pandas user's plotting code works
// unchanged), JSON with everything, a table for stdout, and the gnuplot plot made from the CSV.
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "onnxpool/bench/strategies.hpp"

namespace onnxpool::bench {

// What the JSON says about the machine.
struct MachineInfo {
  int logical_cores = 0;
  int physical_cores = 0;
  std::string cpu_model;
  std::string ort_version;
};
MachineInfo machine_info();

// The tutorial's columns n_imgs, maxN, stepN, repN, batch_size, n_threads, then n_imgs_<name>,
// time_<name> per strategy, then imgs_per_s_<name> per strategy. batch_size is N, n_threads is W.
std::vector<std::string> csv_columns(std::span<const std::string> names);
std::string sweep_csv(const SweepResult& result);
std::string sweep_json(const SweepResult& result, const MachineInfo& machine, const std::string& model);
// measure_time, items/s per N and strategy, then per strategy: max error, throughput and latency at the
// largest N, and the speed-up against the reference.
std::string sweep_table(const SweepResult& result);

// A gnuplot script plotting time_<name> / batch_size against batch_size, log y, a line per strategy,
// titled "Time per image / batch size (n_threads=W)", to `png` and `svg`.
std::string gnuplot_script(const std::filesystem::path& csv, std::span<const std::string> names, int n_threads,
                           const std::filesystem::path& png, const std::filesystem::path& svg);
// Writes PREFIX.png and PREFIX.svg from the CSV with gnuplot (each atomically: drawn under a temporary
// name, then renamed). Throws Error when gnuplot is missing or fails.
void plot_sweep(const std::filesystem::path& csv, std::span<const std::string> names, int n_threads,
                const std::filesystem::path& prefix);

}  // namespace onnxpool::bench
