// onnxpool devices [--json]: what this machine offers ONNX Runtime: version, providers, EP devices,
// cores, and the state of GPU support.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "onnxpool/distributed/launcher.hpp"
#ifdef ONNXPOOL_WITH_MPI
#include "onnxpool/distributed/mpi_ranks.hpp"
#endif
#include "onnxpool/error.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/gpu.hpp"
#include "onnxpool/runtime/runtime.hpp"

namespace onnxpool::cli {
namespace {

// The MPI library's own description ("Open MPI v4.1.4, ..."), its first line; "" without MPI.
std::string mpi_version() {
#ifdef ONNXPOOL_WITH_MPI
  const std::string text = MpiRanks::library_version();
  return text.substr(0, text.find_first_of("\n,"));
#else
  return {};
#endif
}

}  // namespace
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
    const auto gpu = probe_gpu();
    // With a usable GPU, the CUDA provider is registered first so that its EP devices are listed (and
    // a provider that cannot be registered says why here rather than at the first `run`).
    std::string cuda_ep_problem;
    std::size_t cuda_ep_devices = 0;
    if (gpu.usable()) {
      try {
        cuda_ep_devices = runtime.cuda_devices(gpu.provider).size();
        if (cuda_ep_devices == 0) cuda_ep_problem = "ONNX Runtime's CUDA provider offers no device";
      } catch (const Error& e) {
        cuda_ep_problem = e.what();
      }
    }
    nlohmann::json out{{"onnxruntime_version", Runtime::version()},
                       {"providers", Runtime::available_providers()},
                       {"cpu",
                        {{"model", cpu.model_name},
                         {"physical_cores", cpu.physical_cores},
                         {"logical_cores", cpu.logical_count()},
                         {"cgroup_quota_cpus", cpu.quota_cpus},
                         {"usable_cores", cpu.usable_count()},
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
    out["cuda"] = {{"usable", gpu.usable() && cuda_ep_problem.empty()},
                   {"reason", gpu.usable() ? cuda_ep_problem : gpu.reason},
                   {"ep_devices", cuda_ep_devices},
                   {"provider_library", gpu.provider.string()},
                   {"driver", gpu.driver},
                   {"driver_version", gpu.driver_version},
                   {"gpus", gpu.gpus}};
    // Runs across processes and nodes: whether this build has MPI, and whether this process is a rank.
    const std::string mpi_library = mpi_version();
    const auto launch = detect_launch();
    out["mpi"] = {
        {"built_in", built_with_mpi()},
        {"library", mpi_library},
        {"launched",
         launch ? nlohmann::json{{"rank", launch->rank}, {"size", launch->size}, {"launcher", launch->launcher}}
                : nlohmann::json()}};
    if (*json) {
      fmt::print("{}\n", out.dump(2));
      return 0;
    }
    fmt::print("ONNX Runtime {}\n", Runtime::version());
    fmt::print("providers:  {}\n", fmt::join(Runtime::available_providers(), ", "));
    fmt::print("CPU:        {} ({} physical cores, {} logical CPUs usable: {})\n",
               cpu.model_name.empty() ? "unknown model" : cpu.model_name, cpu.physical_cores, cpu.logical_count(),
               fmt::join(cpu.logical, ","));
    if (cpu.quota_cpus > 0) {
      fmt::print("            cgroup quota: {} CPUs (pools size themselves to {})\n", cpu.quota_cpus,
                 cpu.usable_count());
    }
    fmt::print("EP devices:\n");
    for (const auto& device : out["ep_devices"]) {
      fmt::print("  {:<24} {:<4} {} (vendor id {:#x}, device id {:#x})\n", device["ep"].get<std::string>(),
                 device["type"].get<std::string>(), device["vendor"].get<std::string>(),
                 device["vendor_id"].get<std::uint32_t>(), device["device_id"].get<std::uint32_t>());
    }
    if (gpu.usable()) {
      fmt::print("CUDA:       driver {}.{}, provider {} ({} EP device{})\n", gpu.driver_version / 1000,
                 gpu.driver_version % 1000 / 10, gpu.provider.string(), cuda_ep_devices,
                 cuda_ep_devices == 1 ? "" : "s");
      for (std::size_t i = 0; i < gpu.gpus.size(); ++i) fmt::print("  cuda:{}  {}\n", i, gpu.gpus[i]);
      if (!cuda_ep_problem.empty()) fmt::print("  but CUDA workers cannot run: {}\n", cuda_ep_problem);
    } else {
      fmt::print("CUDA:       unavailable: {}\n", gpu.reason);
    }
    if (built_with_mpi()) {
      fmt::print("MPI:        {} (mpirun/srun onnxpool run shares one run across processes and nodes)\n", mpi_library);
    } else {
      fmt::print("MPI:        not built in (Open MPI was not found when onnxpool was built)\n");
    }
    if (launch)
      fmt::print("            this process: rank {} of {}, started by {}\n", launch->rank, launch->size,
                 launch->launcher);
    return 0;
  };
}

}  // namespace onnxpool::cli
