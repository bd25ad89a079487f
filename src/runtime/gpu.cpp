#include "onnxpool/runtime/gpu.hpp"

#include <dlfcn.h>

#include <array>

#include <fmt/format.h>
#include <onnxruntime_c_api.h>

#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

// The CUDA driver API entry points we need, looked up by name (CUresult is an int enum, 0 = success).
using CuInit = int (*)(unsigned int);
using CuDriverGetVersion = int (*)(int*);
using CuDeviceGetCount = int (*)(int*);
using CuDeviceGet = int (*)(int*, int);
using CuDeviceGetName = int (*)(char*, int, int);

template <class F>
F symbol(void* library, const char* name) {
  return reinterpret_cast<F>(dlsym(library, name));
}

// Closes the driver library when the probe is done.
struct Library {
  void* handle;
  explicit Library(const char* name) : handle(dlopen(name, RTLD_NOW | RTLD_LOCAL)) {}
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() {
    if (handle != nullptr) dlclose(handle);
  }
};

void probe_driver(GpuSupport& gpu) {
  const Library cuda("libcuda.so.1");
  if (cuda.handle == nullptr) return;
  const auto init = symbol<CuInit>(cuda.handle, "cuInit");
  const auto version = symbol<CuDriverGetVersion>(cuda.handle, "cuDriverGetVersion");
  const auto count = symbol<CuDeviceGetCount>(cuda.handle, "cuDeviceGetCount");
  const auto get = symbol<CuDeviceGet>(cuda.handle, "cuDeviceGet");
  const auto name = symbol<CuDeviceGetName>(cuda.handle, "cuDeviceGetName");
  if (init == nullptr || version == nullptr || count == nullptr || get == nullptr || name == nullptr) return;
  if (init(0) != 0) return;
  gpu.driver = true;
  version(&gpu.driver_version);
  int devices = 0;
  if (count(&devices) != 0) devices = 0;
  for (int i = 0; i < devices; ++i) {
    std::array<char, 256> text{};
    int device = 0;
    const bool named = get(&device, i) == 0 && name(text.data(), static_cast<int>(text.size()), device) == 0;
    gpu.gpus.emplace_back(named ? text.data() : fmt::format("GPU {}", i));
  }
}

}  // namespace

GpuSupport probe_gpu() {
  GpuSupport gpu;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&OrtGetApiBase), &info) != 0 && info.dli_fname != nullptr) {
    gpu.onnxruntime_dir = std::filesystem::path(info.dli_fname).parent_path();
    const auto provider = gpu.onnxruntime_dir / "libonnxruntime_providers_cuda.so";
    if (std::filesystem::exists(provider)) gpu.provider = provider;
  }
  probe_driver(gpu);
  if (gpu.provider.empty()) {
    gpu.reason = fmt::format(
        "the CUDA provider library libonnxruntime_providers_cuda.so is not installed in {} "
        "(scripts/setup.sh --gpu fetches it)",
        gpu.onnxruntime_dir.empty() ? "ONNX Runtime's folder" : gpu.onnxruntime_dir.string());
  } else if (!gpu.driver) {
    gpu.reason = "no NVIDIA driver (libcuda.so.1 cannot be loaded or initialised)";
  } else if (gpu.gpus.empty()) {
    gpu.reason = "the NVIDIA driver sees no GPU";
  }
  return gpu;
}

void require_gpu(const GpuSupport& gpu, int index, const std::string& what) {
  if (!gpu.usable()) throw Error(fmt::format("{}: cuda:{} asked, but {}", what, index, gpu.reason));
  if (index < 0 || index >= static_cast<int>(gpu.gpus.size())) {
    throw Error(fmt::format("{}: cuda:{} asked, but this machine has {} GPU{} (cuda:0{})", what, index, gpu.gpus.size(),
                            gpu.gpus.size() == 1 ? "" : "s",
                            gpu.gpus.size() > 1 ? fmt::format("..cuda:{}", gpu.gpus.size() - 1) : ""));
  }
}

}  // namespace onnxpool
