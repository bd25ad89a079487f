// The sweep's results declared field by field (its rows, each strategy's report, each worker's share) and
// printed by printers.hpp as CSV (the tutorial's columns), JSON and the stdout table; and the gnuplot plot.
#include "onnxpool/bench/report.hpp"

#include <sys/wait.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "printers.hpp"
#include "summary_fields.hpp"

namespace onnxpool::bench {
namespace {

double per_second(std::size_t n, double seconds) {
  return seconds > 0.0 ? static_cast<double>(n) / seconds : 0.0;
}

// The throughput the others are compared against: the reference runs first.
double reference_throughput(const SweepResult& result) {
  return result.strategies.empty() ? 0.0 : result.strategies.front().throughput;
}

// `text` in single quotes, each quote inside it written as `quote` says: gnuplot doubles it (''),
// the shell closes, escapes and reopens ('\'').
std::string single_quoted(const std::string& text, std::string_view quote) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += quote;
    else
      out += c;
  }
  return out + "'";
}

std::string gp_quote(const std::string& text) {
  return single_quoted(text, "''");
}

std::string sh_quote(const std::string& text) {
  return single_quoted(text, "'\\''");
}

// A worker's part of a run, as the JSON lists it (the table prints shares_line instead).
std::vector<Field<WorkerShare>> share_fields() {
  return {
      {.json = {"name"}, .value = [](const WorkerShare& w) -> Value { return w.counters.name; }},
      {.json = {"device"}, .value = [](const WorkerShare& w) -> Value { return w.device; }},
      {.json = {"items"}, .value = [](const WorkerShare& w) -> Value { return w.counters.items; }},
      {.json = {"runs"}, .value = [](const WorkerShare& w) -> Value { return w.counters.runs; }},
      {.json = {"busy_seconds"}, .value = [](const WorkerShare& w) -> Value { return w.counters.busy_seconds; }},
  };
}

// A strategy's report, `base` the reference's throughput (for "vs ref").
std::vector<Field<StrategyReport>> report_fields(double base) {
  std::vector<Field<StrategyReport>> fields{
      {.json = {"name"},
       .table = "strategy",
       .cell = {.width = 18, .align = '<'},
       .value = [](const StrategyReport& s) -> Value { return s.name; }},
      {.json = {"throughput_at_max_n"},
       .table = "items/s",
       .cell = {.width = 10, .spec = ".2f"},
       .value = [](const StrategyReport& s) -> Value { return s.throughput; }},
      {.table = "vs ref",
       .cell = {.width = 9, .spec = ".2f", .suffix = "x"},
       .value = [base](const StrategyReport& s) -> Value { return base > 0.0 ? s.throughput / base : 0.0; }},
  };
  add_summary_fields<StrategyReport>(fields, "latency_at_max_n", "",
                                     [](const StrategyReport& s) -> const Summary& { return s.latency; });
  fields.push_back({.json = {"max_abs_error"},
                    .table = "max err",
                    .cell = {.width = 11, .spec = ".3g"},
                    .value = [](const StrategyReport& s) -> Value { return s.max_abs_error; }});
  fields.push_back(
      {.json = {"max_rel_error"}, .value = [](const StrategyReport& s) -> Value { return s.max_rel_error; }});
  fields.push_back({.json = {"description"},
                    .table = "how",
                    .cell = {.align = '<', .gap = "  "},
                    .value = [](const StrategyReport& s) -> Value { return s.description; }});
  fields.push_back({.json = {"workers_at_max_n"},
                    .value = [](const StrategyReport& s) -> Value { return json_records(share_fields(), s.workers); }});
  return fields;
}

// One strategy at one N, as a sweep row holds it.
struct StrategyAtN {
  std::size_t n;
  const Timing& timing;
};

// A Timing's fields, repeated for each strategy in a sweep row: CSV "time_<name>", JSON
// {"<name>": {"time": ...}}; a field with a table header goes in the table, in a column headed by the
// strategy's name (the table's title says what the values are).
struct TimingField {
  bool tutorial;  // one of the tutorial's CSV columns, which come first: the added ones follow them all
  Field<StrategyAtN> field;
};
std::vector<TimingField> timing_fields() {
  return {
      {.tutorial = true,
       .field = {.csv = "n_imgs",
                 .json = {"n_imgs"},
                 .value = [](const StrategyAtN& p) -> Value { return p.timing.results; }}},
      {.tutorial = true,
       .field = {.csv = "time",
                 .csv_spec = ".9g",
                 .json = {"time"},
                 .value = [](const StrategyAtN& p) -> Value { return p.timing.seconds; }}},
      {.tutorial = false,
       .field = {.json = {"stddev"}, .value = [](const StrategyAtN& p) -> Value { return p.timing.stddev; }}},
      {.tutorial = false,
       .field = {.csv = "imgs_per_s",
                 .csv_spec = ".6g",
                 .json = {"imgs_per_s"},
                 .table = "items/s",
                 .cell = {.width = 18, .spec = ".2f"},
                 .value = [](const StrategyAtN& p) -> Value { return per_second(p.n, p.timing.seconds); }}},
  };
}

// A sweep row's fields: the tutorial's settings (repeated on every CSV line, as its DataFrame has them),
// N, then each strategy's timing.
std::vector<Field<SweepRow>> sweep_row_fields(const SweepResult& result) {
  const auto setting = [](std::string name, auto get) {
    return Field<SweepRow>{.csv = std::move(name), .value = [get](const SweepRow&) -> Value { return get(); }};
  };
  const SweepOptions& o = result.options;
  std::vector<Field<SweepRow>> fields{
      setting("n_imgs", [&result] { return result.n_imgs; }),
      setting("maxN", [&o] { return o.max_n; }),
      setting("stepN", [&o] { return o.step_n; }),
      setting("repN", [&o] { return o.repeat; }),
      {.csv = "batch_size",
       .json = {"batch_size"},
       .table = "N",
       .cell = {.width = 6},
       .value = [](const SweepRow& row) -> Value { return row.n; }},
      setting("n_threads", [&o] { return o.workers; }),
  };
  for (const bool tutorial : {true, false}) {
    for (std::size_t i = 0; i < result.names.size(); ++i) {
      const std::string& name = result.names[i];
      for (const auto& [is_tutorial, f] : timing_fields()) {
        if (is_tutorial != tutorial) continue;
        Field<SweepRow> field{.csv = f.csv.empty() ? "" : f.csv + "_" + name,
                              .csv_spec = f.csv_spec,
                              .json = {},
                              .table = f.table.empty() ? "" : name,
                              .cell = f.cell,
                              .value = [get = f.value, i](const SweepRow& row) -> Value {
                                return get({.n = row.n, .timing = row.timings[i]});
                              }};
        if (!f.json.empty()) {
          field.json = {name};
          field.json.insert(field.json.end(), f.json.begin(), f.json.end());
        }
        fields.push_back(std::move(field));
      }
    }
  }
  return fields;
}

// "cpu#0 (cpu) 19 items" for each worker of a strategy with several, the strategy's name prefix dropped.
std::string shares_line(const StrategyReport& s) {
  std::vector<std::string> parts;
  for (const auto& w : s.workers) {
    const std::string prefix = s.name + ":";
    const std::string& full = w.counters.name;
    const std::string name = full.starts_with(prefix) ? full.substr(prefix.size()) : full;
    parts.push_back(
        fmt::format("{} ({}) {}{}", name, w.device, w.counters.items,
                    w.counters.runs != w.counters.items ? fmt::format(" in {} runs", w.counters.runs) : std::string()));
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
  SweepResult result;
  result.names.assign(names.begin(), names.end());
  return csv_header(sweep_row_fields(result));
}

std::string sweep_csv(const SweepResult& result) {
  return csv(sweep_row_fields(result), result.rows);
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
                    {"spinning", o.pool.spinning.value_or(false)},
                    {"policy", policy_name(o.pool.policy)}}}};
  j["measure_time"] = {{"average", result.measure.average},   {"deviation", result.measure.deviation},
                       {"min_exec", result.measure.min_exec}, {"max_exec", result.measure.max_exec},
                       {"repeat", result.measure.repeat},     {"number", result.measure.number}};
  j["reference"] = result.reference;
  j["notes"] = result.notes;
  j["strategies"] = json_records(report_fields(reference_throughput(result)), result.strategies);
  j["rows"] = json_records(sweep_row_fields(result), result.rows);
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
  out += table(sweep_row_fields(result), result.rows);
  out += fmt::format("\nat N={} ({} outputs are the reference):\n", result.rows.empty() ? 0 : result.rows.back().n,
                     result.reference);
  out += table(report_fields(reference_throughput(result)), result.strategies);
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
    throw Error(fmt::format("{}: gnuplot failed (exit status {}); is gnuplot installed (apt-get install gnuplot-nox)?",
                            prefix.string(), WIFEXITED(status) ? WEXITSTATUS(status) : status));
  }
  std::filesystem::rename(png_tmp, png);
  std::filesystem::rename(svg_tmp, svg);
}

}  // namespace onnxpool::bench
