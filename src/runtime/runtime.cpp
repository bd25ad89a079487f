#include "onnxpool/runtime/runtime.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "common/ort_error.hpp"
#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

// The name the CUDA provider library gives its EP devices (the classic provider's name, too).
constexpr std::string_view kCudaEp = "CUDAExecutionProvider";
constexpr const char* kRegistrationName = "onnxpool.cuda";

// The CUDA ordinal the provider gave an EP device (its "device_id" option), or -1 when it gave none.
int ordinal_of(const Ort::ConstEpDevice& device) {
  const auto options = device.EpOptions().GetKeyValuePairs();
  const auto found = options.find("device_id");
  if (found == options.end()) return -1;
  char* end = nullptr;
  const long value = std::strtol(found->second.c_str(), &end, 10);
  return end != found->second.c_str() && *end == '\0' && value >= 0 ? static_cast<int>(value) : -1;
}

// ONNX Runtime 1.29's Linux binaries collect telemetry from the first environment a process creates
// (1DS: an on-disk cache under ~/.cache/Microsoft, uploads). Its process-information step matches
// /proc/self/cmdline against a std::regex whose recursion overflows the stack for a command line of
// about 50 KB, such as `run --images` over a few thousand files (seen: SIGSEGV in Env creation). A
// batch tool on compute nodes should neither crash on that nor write and upload behind its user's back:
// ORT_DISABLE_TELEMETRY=1, read by ONNX Runtime when the environment is created, turns all of it off.
// A value the user set is kept (setenv without overwrite).
OrtLoggingLevel without_telemetry(OrtLoggingLevel level) {
  ::setenv("ORT_DISABLE_TELEMETRY", "1", 0);
  return level;
}

}  // namespace

Runtime::Runtime(OrtLoggingLevel log_level, const std::string& log_id)
    : env_(without_telemetry(log_level), log_id.c_str()) {}

std::string Runtime::version() {
  return Ort::GetVersionString();
}

std::vector<std::string> Runtime::available_providers() {
  return Ort::GetAvailableProviders();
}

std::vector<Ort::ConstEpDevice> Runtime::cuda_devices(const std::filesystem::path& provider_library) {
  const std::lock_guard lock(cuda_mutex_);
  if (!cuda_failure_.empty()) throw Error(cuda_failure_);
  if (!cuda_registered_) {
    try {
      env_.RegisterExecutionProviderLibrary(kRegistrationName, provider_library.native());
    } catch (const Ort::Exception& e) {
      cuda_failure_ = fmt::format("ONNX Runtime could not register the CUDA provider: {}", one_line(e.what()));
      throw Error(cuda_failure_);
    }
    cuda_registered_ = true;
  }
  std::vector<Ort::ConstEpDevice> devices;
  for (const auto& device : env_.GetEpDevices()) {
    if (device.EpName() == kCudaEp) devices.push_back(device);
  }
  // The provider numbers its devices through their "device_id" option; keep listing order otherwise.
  std::stable_sort(devices.begin(), devices.end(),
                   [](const auto& a, const auto& b) { return ordinal_of(a) < ordinal_of(b); });
  return devices;
}

}  // namespace onnxpool
