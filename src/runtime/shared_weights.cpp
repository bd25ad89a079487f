#include "onnxpool/runtime/shared_weights.hpp"

#include <sys/statvfs.h>

#include <cstdint>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "common/ort_error.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/ort_value.hpp"
#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {
namespace {

// ", with 12 MiB free there for a 14 MiB model" when the folder's file system has less room than about
// twice the model (the optimised model can be larger); "" otherwise or when unknown.
std::string room_note(const std::filesystem::path& folder, const std::filesystem::path& model) {
  struct statvfs info {};
  std::error_code error;
  const auto size = std::filesystem::file_size(model, error);
  if (error || ::statvfs(folder.c_str(), &info) != 0) return "";
  const auto free = static_cast<std::uintmax_t>(info.f_bavail) * info.f_frsize;
  if (free >= 2 * size) return "";
  return fmt::format(", with {} MiB free there for a {} MiB model", free >> 20, (size + (1U << 20) - 1) >> 20);
}

}  // namespace

SharedWeights::SharedWeights(Runtime& runtime, const std::filesystem::path& model,
                             const std::filesystem::path& optimized)
    : optimized_(optimized) {
  const std::string context = fmt::format("{}: preparing shared weights", model.filename().string());
  {
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(1);
    options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    options.SetOptimizedModelFilePath(optimized_.c_str());
    // The optimised model is for this machine only (NCHWc layouts); ONNX Runtime warns about that at
    // WARNING level, which is exactly our intent, so this one session logs errors only.
    options.SetLogSeverityLevel(ORT_LOGGING_LEVEL_ERROR);
    try {
      guard_ort(context, [&] { return Ort::Session(runtime.env(), model.c_str(), options); });
    } catch (const Error& e) {
      std::string what = e.what();
      while (!what.empty() && what.back() == '.') what.pop_back();
      // ONNX Runtime says only "Protobuf serialization failed" when the optimised model cannot be
      // written (a full /tmp): say where it went and how much room there was.
      throw Error(fmt::format("{}; the optimised model is written to '{}' first{} (TMPDIR chooses the folder)", what,
                              optimized_.parent_path().string(), room_note(optimized_.parent_path(), model)));
    }
  }
  std::ifstream in(optimized_, std::ios::binary);
  onnx::ModelProto proto;
  if (!in || !proto.ParseFromIstream(&in)) throw Error(fmt::format("{}: cannot read the optimised model", context));
  for (const auto& initializer : proto.graph().initializer()) {
    const std::string bytes = initializer.SerializeAsString();
    auto named = parse_tensor_pb(std::as_bytes(std::span(bytes.data(), bytes.size())),
                                 fmt::format("{} initializer '{}'", context, initializer.name()));
    bytes_ += named.tensor.byte_size();
    initializers_.push_back(std::move(named));
  }
  values_.reserve(initializers_.size());
  for (const auto& named : initializers_) values_.push_back(to_ort_value(named.tensor));
}

void SharedWeights::apply(Ort::SessionOptions& options) const {
  options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);
  for (std::size_t i = 0; i < initializers_.size(); ++i) {
    options.AddInitializer(initializers_[i].name.c_str(), values_[i]);
  }
}

}  // namespace onnxpool
