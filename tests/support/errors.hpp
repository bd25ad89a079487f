#pragma once
// Helpers for tests about errors: the message a call throws, and failure logs compared without the
// field that may differ between two runs of the same items.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "onnxpool/error.hpp"

namespace onnxpool::test {

// The message of the Error `call` throws; "no error" when it throws none.
inline std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A failures.jsonl's lines, each without its "worker" (which worker ran an item may differ from one
// run to the next; the index, name and cause may not).
inline std::vector<nlohmann::json> failures_without_workers(const std::filesystem::path& log) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("worker");
    lines.push_back(j);
  }
  return lines;
}

}  // namespace onnxpool::test
