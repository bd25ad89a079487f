#include "onnxpool/pipeline/sink.hpp"

#include <unistd.h>

#include <cctype>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {

void SinkFan::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  for (Sink* sink : sinks_) sink->write(index, name, outputs);
}

void SinkFan::fail(const ItemFailure& failure) {
  for (Sink* sink : sinks_) sink->fail(failure);
}

void SinkFan::finish() {
  for (Sink* sink : sinks_) sink->finish();
}

std::string file_name_for(const std::string& output_name) {
  std::string out = output_name;
  for (auto& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return out.empty() || out.front() == '.' ? "_" + out : out;
}

PerItemNpySink::PerItemNpySink(std::filesystem::path dir, std::size_t item_count)
    : dir_(std::move(dir)), item_count_(item_count) {}

void PerItemNpySink::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  const auto folder = item_count_ == 1 ? dir_ : dir_ / (name.empty() ? fmt::format("item_{}", index) : name);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the folder: {}", folder.string(), ec.message()));
  for (const auto& output : outputs) write_npy(folder / (file_name_for(output.name) + ".npy"), output.tensor);
}

FailureLog::FailureLog(std::filesystem::path path)
    : path_(std::move(path)), temporary_(fmt::format("{}.tmp.{}", path_.string(), ::getpid())) {}

FailureLog::~FailureLog() {
  // Not finished (the run threw): no log under its final name, and no temporary left behind.
  if (out_.is_open()) {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(temporary_, ec);
  }
}

void FailureLog::fail(const ItemFailure& failure) {
  if (!out_.is_open()) {
    out_.open(temporary_, std::ios::trunc);
    if (!out_) throw Error(fmt::format("{}: cannot write the failure log", temporary_.string()));
  }
  const nlohmann::json line{
      {"index", failure.index}, {"name", failure.name}, {"worker", failure.worker}, {"cause", failure.cause}};
  out_ << line.dump() << '\n';
  if (!out_) throw Error(fmt::format("{}: cannot write the failure log", temporary_.string()));
}

void FailureLog::finish() {
  if (!out_.is_open()) return;
  out_.close();
  if (!out_) throw Error(fmt::format("{}: cannot write the failure log", temporary_.string()));
  std::error_code ec;
  std::filesystem::rename(temporary_, path_, ec);
  if (ec) throw Error(fmt::format("{}: cannot rename the failure log: {}", path_.string(), ec.message()));
}

}  // namespace onnxpool
