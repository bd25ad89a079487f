// onnxpool devices [--json]: what this machine offers ONNX Runtime: version, providers, EP devices,
// cores, and the state of GPU support.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "onnxpool/cpu.hpp"
#include "onnxpool/gpu.hpp"
#include "onnxpool/runtime.hpp"

namespace onnxpool::cli {
namespace {

std::string device_type_name(OrtHardwareDeviceType type) {
  switch (type) {
    case OrtHardwareDeviceType_CPU:
      return "CPU";
    case OrtHardwareDeviceType_GPU:
      return "GPU";
    case OrtHardwareDeviceType_NPU:
      return "NPU";
    default:
      return "unknown";
  }
}

}  // namespace

Command add_devices(CLI::App& app) {
  auto* cmd = app.add_subcommand("devices", "Show ONNX Runtime's version, providers, EP devices and the CPU cores");
  cmd->footer("Examples:\n  onnxpool devices\n  onnxpool devices --json");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON instead of text");
  return [json, cmd] {
    Runtime runtime(ort_log_level(*cmd));
    const auto cpu = CpuTopology::detect();
    nlohmann::json out{{"onnxruntime_version", Runtime::version()},
                       {"providers", Runtime::available_providers()},
                       {"cpu",
                        {{"model", cpu.model_name},
                         {"physical_cores", cpu.physical_cores},
                         {"logical_cores", cpu.logical_count()},
                         {"usable_cpus", cpu.logical}}}};
    out["ep_devices"] = nlohmann::json::array();
    for (const auto& device : runtime.env().GetEpDevices()) {
      const auto hardware = device.Device();
      out["ep_devices"].push_back({{"ep", device.EpName()},
                                   {"ep_vendor", device.EpVendor()},
                                   {"type", device_type_name(hardware.Type())},
                                   {"vendor", hardware.Vendor()},
                                   {"vendor_id", hardware.VendorId()},
                                   {"device_id", hardware.DeviceId()}});
    }
    const auto gpu = probe_gpu();
    out["cuda"] = {{"usable", gpu.usable()},
                   {"reason", gpu.reason},
                   {"provider_library", gpu.provider.string()},
                   {"driver", gpu.driver},
                   {"driver_version", gpu.driver_version},
                   {"gpus", gpu.gpus}};
    if (*json) {
      fmt::print("{}\n", out.dump(2));
      return 0;
    }
    fmt::print("ONNX Runtime {}\n", Runtime::version());
    fmt::print("providers:  {}\n", fmt::join(Runtime::available_providers(), ", "));
    fmt::print("CPU:        {} ({} physical cores, {} logical CPUs usable: {})\n",
               cpu.model_name.empty() ? "unknown model" : cpu.model_name, cpu.physical_cores, cpu.logical_count(),
               fmt::join(cpu.logical, ","));
    fmt::print("EP devices:\n");
    for (const auto& device : out["ep_devices"]) {
      fmt::print("  {:<24} {:<4} {} (vendor id {:#x}, device id {:#x})\n", device["ep"].get<std::string>(),
                 device["type"].get<std::string>(), device["vendor"].get<std::string>(),
                 device["vendor_id"].get<std::uint32_t>(), device["device_id"].get<std::uint32_t>());
    }
    if (gpu.usable()) {
      fmt::print("CUDA:       driver {}.{}, provider {}\n", gpu.driver_version / 1000, gpu.driver_version % 1000 / 10,
                 gpu.provider.string());
      for (std::size_t i = 0; i < gpu.gpus.size(); ++i) fmt::print("  cuda:{}  {}\n", i, gpu.gpus[i]);
    } else {
      fmt::print("CUDA:       unavailable: {}\n", gpu.reason);
    }
    return 0;
  };
}

}  // namespace onnxpool::cli
