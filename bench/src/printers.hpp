#pragma once
// Each result of `onnxpool bench` (a grid row, a row of the sweep, a strategy's report) declares its
// fields once, and one printer per format prints any of them: llama-bench's test::get_fields() with its
// csv, json and markdown printers, OpenVINO benchmark_app's StatisticsVariant(csv_name, json_name,
// value). A field says where it goes in each format (none, some or all) and how to get its value.
//
// The CSV columns, JSON keys and table layout are read by users' pandas code and bench/summarize*.py:
// a new field is fine, a renamed or moved one is not.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace onnxpool::bench {

// A value as every printer sees it. nlohmann::json holds what results are made of (integers, reals,
// text, on/off) and, for JSON-only fields, objects and arrays.
using Value = nlohmann::json;

// How a value fills a table column.
struct Cell {
  std::size_t width = 0;
  char align = '>';              // '>' right, '<' left
  std::string_view spec = {};    // fmt spec of a real (".2f"); integers and text print as they are
  double scale = 1.0;            // a real is multiplied by it first (seconds -> ms)
  std::string_view suffix = {};  // after the number, within the width ("1.52x")
  std::string_view gap = " ";    // before the column, unless it is the first
};

// One field of the result kind Row: where it goes in each format, and how to get its value.
template <class Row>
struct Field {
  std::string csv = {};                // CSV column; empty: not in the CSV
  std::string_view csv_spec = {};      // fmt spec of a real in the CSV (".6g")
  std::vector<std::string> json = {};  // JSON key, after the keys of the objects it nests in; empty: not in JSON
  std::string table = {};              // table header; empty: not in the table
  Cell cell = {};
  std::function<Value(const Row&)> value;
};

// A scalar as text: integers and text as they are, on/off for a truth value, a real with `spec` after
// multiplying it by `scale`. Throws Error for an object or array (a field for JSON only).
std::string value_text(const Value& value, std::string_view spec, double scale = 1.0);
// `text` padded to the cell's width on the side its alignment says.
std::string cell_text(const std::string& text, const Cell& cell);

template <class Row>
std::vector<std::string> csv_header(const std::vector<Field<Row>>& fields) {
  std::vector<std::string> names;
  for (const auto& f : fields) {
    if (!f.csv.empty()) names.push_back(f.csv);
  }
  return names;
}

// The header line and one line per row, comma-separated, unquoted (no value holds a comma).
template <class Row, class Rows>
std::string csv(const std::vector<Field<Row>>& fields, const Rows& rows) {
  std::string out;
  const auto line = [&](auto cell) {
    bool first = true;
    for (const auto& f : fields) {
      if (f.csv.empty()) continue;
      out += first ? "" : ",";
      out += cell(f);
      first = false;
    }
    out += '\n';
  };
  line([](const Field<Row>& f) { return f.csv; });
  for (const Row& row : rows) line([&](const Field<Row>& f) { return value_text(f.value(row), f.csv_spec); });
  return out;
}

template <class Row>
nlohmann::json json_record(const std::vector<Field<Row>>& fields, const Row& row) {
  nlohmann::json record = nlohmann::json::object();
  for (const auto& f : fields) {
    if (f.json.empty()) continue;
    nlohmann::json* at = &record;
    for (std::size_t k = 0; k + 1 < f.json.size(); ++k) at = &(*at)[f.json[k]];
    (*at)[f.json.back()] = f.value(row);
  }
  return record;
}

template <class Row, class Rows>
nlohmann::json json_records(const std::vector<Field<Row>>& fields, const Rows& rows) {
  nlohmann::json records = nlohmann::json::array();
  for (const Row& row : rows) records.push_back(json_record(fields, row));
  return records;
}

// The header line and one line per row, each column at its cell's width.
template <class Row, class Rows>
std::string table(const std::vector<Field<Row>>& fields, const Rows& rows) {
  std::string out;
  const auto line = [&](auto text) {
    bool first = true;
    for (const auto& f : fields) {
      if (f.table.empty()) continue;
      if (!first) out += f.cell.gap;
      out += cell_text(text(f), f.cell);
      first = false;
    }
    out += '\n';
  };
  line([](const Field<Row>& f) { return f.table; });
  for (const Row& row : rows) {
    line([&](const Field<Row>& f) {
      return value_text(f.value(row), f.cell.spec, f.cell.scale) + std::string(f.cell.suffix);
    });
  }
  return out;
}

}  // namespace onnxpool::bench
