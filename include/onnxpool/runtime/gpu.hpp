#pragma once
// Whether this machine can run CUDA workers, and why not when it cannot: the ONNX Runtime CUDA
// provider library next to libonnxruntime (scripts/setup.sh --gpu fetches it), the NVIDIA driver
// (libcuda.so.1) and its GPUs. Probed without linking CUDA: the driver is opened with dlopen.
#include <filesystem>
#include <string>
#include <vector>

namespace onnxpool {

struct GpuSupport {
  std::filesystem::path onnxruntime_dir;  // where libonnxruntime.so.1 was loaded from
  std::filesystem::path provider;         // libonnxruntime_providers_cuda.so there, empty if absent
  bool driver = false;                    // libcuda.so.1 loads and initialises
  int driver_version = 0;                 // e.g. 13000 for CUDA 13.0
  std::vector<std::string> gpus;          // names, by CUDA ordinal
  std::string reason;                     // empty when CUDA workers can be made; else why not, in a phrase

  [[nodiscard]] bool usable() const { return reason.empty(); }
};

GpuSupport probe_gpu();

// Throws Error("<what>: cuda:K asked, but <reason>") when GPU `index` cannot take a worker.
void require_gpu(const GpuSupport& gpu, int index, const std::string& what);

}  // namespace onnxpool
