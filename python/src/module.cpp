// The native part of the `onnxpool` Python package (onnxpool/_onnxpool*.so). The package's __init__.py
// re-exports it with the pure-Python parts (errors, the model description's classes).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_convert.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/gpu.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "pool_binding.hpp"

namespace py = pybind11;
using onnxpool::python::PoolOptions;
using onnxpool::python::PyPool;

namespace {

// One value's description: name, numpy dtype (None for bfloat16 and other types numpy lacks) and the
// shape, each dim an int (fixed), a str (symbolic, named) or None (symbolic, unnamed).
py::dict value_of(const onnxpool::ValueInfo& value) {
  py::dict out;
  out["name"] = value.name;
  try {
    out["dtype"] = onnxpool::python::dtype_of(value.type);
  } catch (const py::type_error&) {
    out["dtype"] = py::none();
  }
  out["type"] = std::string(onnxpool::element_type_name(value.type));
  py::list shape;
  for (const auto& dim : value.shape) {
    if (dim.fixed()) {
      shape.append(dim.value);
    } else if (!dim.symbol.empty()) {
      shape.append(dim.symbol);
    } else {
      shape.append(py::none());
    }
  }
  out["shape"] = py::tuple(shape);
  return out;
}

py::dict inspect(const std::string& path) {
  onnxpool::ModelInfo info;
  {
    const py::gil_scoped_release release;
    onnxpool::Runtime runtime;
    info = onnxpool::inspect_model(runtime, path);
  }
  py::dict out;
  out["path"] = info.path.string();
  py::list inputs;
  for (const auto& value : info.inputs) inputs.append(value_of(value));
  py::list outputs;
  for (const auto& value : info.outputs) outputs.append(value_of(value));
  out["inputs"] = inputs;
  out["outputs"] = outputs;
  py::dict opsets;
  for (const auto& opset : info.opsets)
    opsets[py::str(opset.domain.empty() ? "ai.onnx" : opset.domain)] = opset.version;
  out["opsets"] = opsets;
  out["ir_version"] = info.ir_version;
  out["producer"] = info.producer_name;
  out["graph"] = info.graph_name;
  out["description"] = info.description;
  out["metadata"] = info.metadata;
  out["batchable"] = info.batchable();
  return out;
}

py::dict devices() {
  const auto cpu = onnxpool::CpuTopology::detect();
  const auto gpu = onnxpool::probe_gpu();
  py::dict out;
  out["onnxruntime_version"] = onnxpool::Runtime::version();
  out["providers"] = onnxpool::Runtime::available_providers();
  py::dict cpus;
  cpus["model"] = cpu.model_name;
  cpus["physical_cores"] = cpu.physical_cores;
  cpus["usable_cpus"] = cpu.logical;
  cpus["cgroup_quota_cpus"] = cpu.quota_cpus;  // 0: none
  cpus["usable_count"] = cpu.usable_count();   // what a pool sizes itself to
  out["cpu"] = cpus;
  py::dict cuda;
  cuda["usable"] = gpu.usable();
  cuda["reason"] = gpu.reason;
  cuda["gpus"] = gpu.gpus;
  out["cuda"] = cuda;
  return out;
}

}  // namespace

PYBIND11_MODULE(_onnxpool, m) {
  m.doc() = "onnxpool's native module: use the onnxpool package.";
  onnxpool::python::register_error_translator();
  m.attr("__version__") = ONNXPOOL_VERSION;
  m.attr("ort_version") = onnxpool::Runtime::version();
  m.def("_inspect", &inspect, py::arg("path"));
  m.def("devices", &devices,
        "ONNX Runtime's version and providers, the CPUs this process may use, and whether CUDA workers "
        "can run (and why not).");

  // The pool's native half: onnxpool.Pool (onnxpool/_pool.py) wraps it with what is Python's (submit's
  // futures, map, run_array, pickling).
  py::class_<PyPool::Pending>(m, "_Pending")
      .def("result", &PyPool::Pending::result)
      .def("done", &PyPool::Pending::done);
  py::class_<PyPool>(m, "_Pool")
      .def(py::init([](std::string model, std::optional<int> workers, std::optional<int> threads,
                       std::optional<std::string> devices, std::string policy, std::optional<std::size_t> batch,
                       bool pin, bool oversubscribe) {
             return std::make_unique<PyPool>(PoolOptions{std::move(model), workers, threads, std::move(devices),
                                                         std::move(policy), batch, pin, oversubscribe});
           }),
           py::arg("model"), py::kw_only(), py::arg("workers") = py::none(), py::arg("threads") = py::none(),
           py::arg("devices") = py::none(), py::arg("policy") = "dynamic", py::arg("batch") = py::none(),
           py::arg("pin") = false, py::arg("oversubscribe") = false)
      .def("run", &PyPool::run, py::arg("inputs"))
      .def("run_all", &PyPool::run_all, py::arg("items"))
      // The pending result keeps its pool alive (keep_alive): it converts the outputs.
      .def("submit", &PyPool::submit, py::arg("inputs"), py::keep_alive<0, 1>())
      .def("stats", &PyPool::stats)
      .def("close", &PyPool::close)
      .def_property_readonly("closed", &PyPool::closed)
      .def_property_readonly("in_flight", &PyPool::in_flight)
      // {input name: rank}: how run_array slices its arrays.
      .def_property_readonly("input_ranks",
                             [](const PyPool& pool) {
                               py::dict ranks;
                               for (const auto& input : pool.model().inputs)
                                 ranks[py::str(input.name)] = input.shape.size();
                               return ranks;
                             })
      .def("__len__", &PyPool::size);
}
