#pragma once
// SharedWeights: a model's weights held once for every session of a pool.
//
// Why: ONNX Runtime copies a model's initializers into each session, and on x86 its layout optimiser
// (NCHWc) writes reordered copies of the convolution weights into each session too, so W workers held W
// copies of the weights (ResNet18: +46 MB per worker). The pre-packed weights container does not cover
// either. Instead the model is optimised once into a file (ONNX Runtime's full graph optimisation, for
// this machine), its initializers are loaded here once, and each session is created from that file with
// optimisation off (already applied) and the initializers passed in with SessionOptions::AddInitializer,
// which makes ONNX Runtime use the caller's memory instead of its own copy.
#include <cstddef>
#include <filesystem>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

class Runtime;

class SharedWeights {
 public:
  // Writes the optimised model to `optimized` (a path in a scratch folder of the caller's) and loads
  // its initializers. Throws Error naming the model.
  SharedWeights(Runtime& runtime, const std::filesystem::path& model, const std::filesystem::path& optimized);
  SharedWeights(const SharedWeights&) = delete;
  SharedWeights& operator=(const SharedWeights&) = delete;

  // The model file sessions must be created from (with apply()).
  [[nodiscard]] const std::filesystem::path& optimized_model() const { return optimized_; }
  // Turns optimisation off and hands every initializer to the session. The SharedWeights must outlive
  // every session created with these options.
  void apply(Ort::SessionOptions& options) const;
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] std::size_t count() const { return initializers_.size(); }

 private:
  std::filesystem::path optimized_;
  TensorSet initializers_;
  std::vector<Ort::Value> values_;  // views of initializers_
  std::size_t bytes_ = 0;
};

}  // namespace onnxpool
