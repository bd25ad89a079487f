#pragma once
// The end of `run`: what it prints (the rate, each worker, where the time went) and what --json writes.
#include <cstddef>
#include <filesystem>
#include <string>

#include "onnxpool/pipeline/stream.hpp"
#include "onnxpool/pool/pool.hpp"

namespace onnxpool::cli {

struct RunReport {
  std::string model;
  std::size_t items = 0;      // the source's
  std::size_t batch = 1;      // the configured batch
  std::string failures_file;  // "" without --output or when nothing failed
};

// `run -v`'s line on the pool it made and why: "pool: 2 workers x 1 thread, batch 1, dynamic policy:
// automatic for 2 cores (...)". `origin` is pool_origin()'s; `config` the configuration it was made from.
std::string pool_choice(const Pool& pool, const PoolConfig& config, const std::string& origin);

// "2000 items in 9.3 s: 214 items/s (...)", a line per worker, and the time line, on stdout.
void print_run_summary(const RunReport& report, const StreamSummary& done, const Pool& pool);
// The same as JSON, written atomically to `file`.
void write_run_json(const std::filesystem::path& file, const RunReport& report, const StreamSummary& done,
                    const Pool& pool);

}  // namespace onnxpool::cli
