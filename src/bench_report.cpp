// Writers of the sweep: CSV (the tutorial's columns), JSON, the stdout table and the gnuplot plot.
#include "onnxpool/bench_report.hpp"

#include <sys/wait.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_json.hpp"
#include "onnxpool/cpu.hpp"
#include "onnxpool/runtime.hpp"
#include "onnxpool/tensor_io.hpp"

namespace onnxpool::bench {
namespace {

double per_second(std::size_t n, double seconds) {
  return seconds > 0.0 ? static_cast<double>(n) / seconds : 0.0;
}

// A single-quoted gnuplot string.
std::string gp_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out + "'";
}

// A single-quoted shell word.
std::string sh_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

nlohmann::json shares_json(const std::vector<WorkerShare>& shares) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& w : shares) {
    out.push_back({{"name", w.name},
                   {"device", w.device},
                   {"items", w.items},
                   {"runs", w.runs},
                   {"busy_seconds", w.busy_seconds}});
  }
  return out;
}

// "cpu#0 (cpu) 19 items" for each worker of a strategy with several, the strategy's name prefix dropped.
std::string shares_line(const StrategyReport& s) {
  std::vector<std::string> parts;
  for (const auto& w : s.workers) {
    const std::string prefix = s.name + ":";
    const std::string name = w.name.starts_with(prefix) ? w.name.substr(prefix.size()) : w.name;
    parts.push_back(fmt::format("{} ({}) {}{}", name, w.device, w.items,
                                w.runs != w.items ? fmt::format(" in {} runs", w.runs) : std::string()));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

MachineInfo machine_info() {
  const CpuTopology cpu = CpuTopology::detect();
  return {.logical_cores = cpu.logical_count(),
          .physical_cores = cpu.physical_cores,
          .cpu_model = cpu.model_name,
          .ort_version = Runtime::version()};
}

std::vector<std::string> csv_columns(std::span<const std::string> names) {
  std::vector<std::string> columns{"n_imgs", "maxN", "stepN", "repN", "batch_size", "n_threads"};
  for (const auto& name : names) {
    columns.push_back("n_imgs_" + name);
    columns.push_back("time_" + name);
  }
  for (const auto& name : names) columns.push_back("imgs_per_s_" + name);
  return columns;
}

std::string sweep_csv(const SweepResult& result) {
  std::string out = fmt::format("{}\n", fmt::join(csv_columns(result.names), ","));
  const auto& o = result.options;
  for (const auto& row : result.rows) {
    out += fmt::format("{},{},{},{},{},{}", result.n_imgs, o.max_n, o.step_n, o.repeat, row.n, o.workers);
    for (const auto& p : row.points) out += fmt::format(",{},{:.9g}", p.results, p.seconds);
    for (const auto& p : row.points) out += fmt::format(",{:.6g}", per_second(row.n, p.seconds));
    out += '\n';
  }
  return out;
}

std::string sweep_json(const SweepResult& result, const MachineInfo& machine, const std::string& model) {
  const auto& o = result.options;
  nlohmann::json j;
  j["model"] = model;
  j["machine"] = {{"logical_cores", machine.logical_cores},
                  {"physical_cores", machine.physical_cores},
                  {"cpu_model", machine.cpu_model},
                  {"onnxruntime_version", machine.ort_version}};
  j["options"] = {{"workers", o.workers},
                  {"maxN", o.max_n},
                  {"stepN", o.step_n},
                  {"repN", o.repeat},
                  {"rtol", o.rtol},
                  {"atol", o.atol},
                  {"n_imgs", result.n_imgs},
                  {"pool",
                   {{"workers", o.pool.workers},
                    {"threads", o.pool.threads},
                    {"batch", o.pool.batch},
                    {"pin", o.pool.pin},
                    {"spinning", o.pool.spinning},
                    {"policy", policy_name(o.pool.policy)}}}};
  j["measure_time"] = {{"average", result.measure.average},   {"deviation", result.measure.deviation},
                       {"min_exec", result.measure.min_exec}, {"max_exec", result.measure.max_exec},
                       {"repeat", result.measure.repeat},     {"number", result.measure.number}};
  j["reference"] = result.reference;
  j["notes"] = result.notes;
  nlohmann::json strategies = nlohmann::json::array();
  for (const auto& s : result.strategies) {
    strategies.push_back({{"name", s.name},
                          {"description", s.description},
                          {"max_abs_error", s.max_abs_error},
                          {"max_rel_error", s.max_rel_error},
                          {"throughput_at_max_n", s.throughput},
                          {"latency_at_max_n", summary_json(s.latency)},
                          {"workers_at_max_n", shares_json(s.workers)}});
  }
  j["strategies"] = strategies;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : result.rows) {
    nlohmann::json r = {{"batch_size", row.n}};
    for (std::size_t i = 0; i < row.points.size(); ++i) {
      const auto& p = row.points[i];
      r[result.names[i]] = {{"n_imgs", p.results},
                            {"time", p.seconds},
                            {"stddev", p.stddev},
                            {"imgs_per_s", per_second(row.n, p.seconds)}};
    }
    rows.push_back(r);
  }
  j["rows"] = rows;
  return j.dump(2) + "\n";
}

std::string sweep_table(const SweepResult& result) {
  const auto& m = result.measure;
  std::string out = fmt::format(
      "measure_time (1 item, {} session): average {:.3f} ms, deviation {:.3f} ms, min_exec {:.3f} ms, max_exec {:.3f} "
      "ms, "
      "repeat {}, number {}\n\n",
      result.reference, m.average * 1e3, m.deviation * 1e3, m.min_exec * 1e3, m.max_exec * 1e3, m.repeat, m.number);
  out += "items/s by N (W=" + std::to_string(result.options.workers) + "):\n";
  out += fmt::format("{:>6}", "N");
  for (const auto& name : result.names) out += fmt::format(" {:>18}", name);
  out += '\n';
  for (const auto& row : result.rows) {
    out += fmt::format("{:>6}", row.n);
    for (const auto& p : row.points) out += fmt::format(" {:>18.2f}", per_second(row.n, p.seconds));
    out += '\n';
  }
  const double base = result.strategies.empty() ? 0.0 : result.strategies.front().throughput;
  out += fmt::format("\nat N={} ({} outputs are the reference):\n", result.rows.empty() ? 0 : result.rows.back().n,
                     result.reference);
  out += fmt::format("{:<18} {:>10} {:>9} {:>9} {:>9} {:>9} {:>11}  {}\n", "strategy", "items/s", "vs ref", "p50 ms",
                     "p90 ms", "p99 ms", "max err", "how");
  for (const auto& s : result.strategies) {
    out += fmt::format("{:<18} {:>10.2f} {:>8.2f}x {:>9.3f} {:>9.3f} {:>9.3f} {:>11.3g}  {}\n", s.name, s.throughput,
                       base > 0.0 ? s.throughput / base : 0.0, s.latency.p50 * 1e3, s.latency.p90 * 1e3,
                       s.latency.p99 * 1e3, s.max_abs_error, s.description);
  }
  bool header = false;
  for (const auto& s : result.strategies) {
    if (s.workers.size() < 2) continue;
    if (!header) out += "\nitems per worker in the last run at that N:\n";
    header = true;
    out += fmt::format("{:<18} {}\n", s.name, shares_line(s));
  }
  for (const auto& note : result.notes) out += "note: " + note + "\n";
  return out;
}

std::string gnuplot_script(const std::filesystem::path& csv, std::span<const std::string> names, int n_threads,
                           const std::filesystem::path& png, const std::filesystem::path& svg) {
  // Mirrors bench/plot.gp: the tutorial's df.plot of time_<name> / batch_size, log y.
  std::string names_word;
  for (const auto& n : names) names_word += (names_word.empty() ? "" : " ") + n;
  std::string script;
  script += "set datafile separator ','\n";
  script +=
      fmt::format("set title {}\n", gp_quote(fmt::format("Time per image / batch size (n_threads={})", n_threads)));
  script += "set xlabel 'batch size (N images)'\nset ylabel 'seconds per image'\nset logscale y\nset grid\n";
  script += "set key outside right\n";
  script += fmt::format("names = {}\n", gp_quote(names_word));
  script += fmt::format("csv = {}\n", gp_quote(csv.string()));
  const std::string plot =
      "plot for [s in names] csv using 'batch_size':(column('time_'.s)/column('batch_size')) "
      "with linespoints title s\n";
  script +=
      fmt::format("set terminal pngcairo size 900,560 noenhanced\nset output {}\n{}", gp_quote(png.string()), plot);
  script +=
      fmt::format("set terminal svg size 900,560 dynamic noenhanced\nset output {}\n{}", gp_quote(svg.string()), plot);
  script += "unset output\n";
  return script;
}

void plot_sweep(const std::filesystem::path& csv, std::span<const std::string> names, int n_threads,
                const std::filesystem::path& prefix) {
  const std::filesystem::path png = prefix.string() + ".png";
  const std::filesystem::path svg = prefix.string() + ".svg";
  // gnuplot draws to temporary names in the target folder; renamed once both are complete.
  const std::filesystem::path png_tmp = prefix.string() + ".png.tmp";
  const std::filesystem::path svg_tmp = prefix.string() + ".svg.tmp";
  const std::filesystem::path script_path = prefix.string() + ".gp.tmp";
  const std::string script = gnuplot_script(csv, names, n_threads, png_tmp, svg_tmp);
  write_file_atomically(script_path, std::as_bytes(std::span(script.data(), script.size())));
  const int status = std::system(fmt::format("gnuplot {} 2>&1", sh_quote(script_path.string())).c_str());
  std::error_code ignored;
  std::filesystem::remove(script_path, ignored);
  if (status != 0) {
    std::filesystem::remove(png_tmp, ignored);
    std::filesystem::remove(svg_tmp, ignored);
    throw Error(
        fmt::format("--plot {}: gnuplot failed (exit status {}); is gnuplot installed (apt-get install gnuplot-nox)?",
                    prefix.string(), WIFEXITED(status) ? WEXITSTATUS(status) : status));
  }
  std::filesystem::rename(png_tmp, png);
  std::filesystem::rename(svg_tmp, svg);
}

}  // namespace onnxpool::bench
