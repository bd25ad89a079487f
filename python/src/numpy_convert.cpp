#include "numpy_convert.hpp"

#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pybind11/stl.h>

namespace onnxpool::python {

py::dtype dtype_of(ElementType type) {
  switch (type) {
    case ElementType::Float:
      return py::dtype::of<float>();
    case ElementType::Double:
      return py::dtype::of<double>();
    case ElementType::Float16:
      return py::dtype("float16");
    case ElementType::Int8:
      return py::dtype::of<std::int8_t>();
    case ElementType::Int16:
      return py::dtype::of<std::int16_t>();
    case ElementType::Int32:
      return py::dtype::of<std::int32_t>();
    case ElementType::Int64:
      return py::dtype::of<std::int64_t>();
    case ElementType::UInt8:
      return py::dtype::of<std::uint8_t>();
    case ElementType::UInt16:
      return py::dtype::of<std::uint16_t>();
    case ElementType::UInt32:
      return py::dtype::of<std::uint32_t>();
    case ElementType::UInt64:
      return py::dtype::of<std::uint64_t>();
    case ElementType::Bool:
      return py::dtype::of<bool>();
    case ElementType::String:
      return py::dtype("U1");
    default:
      break;
  }
  throw py::type_error(fmt::format("element type {} has no numpy dtype", element_type_name(type)));
}

ElementType element_type_of(const py::dtype& dtype, const std::string& what) {
  const char kind = dtype.kind();
  if (kind == 'U' || kind == 'S' || kind == 'O') return ElementType::String;
  const auto size = static_cast<std::size_t>(dtype.itemsize());
  if (kind == 'b' && size == 1) return ElementType::Bool;
  if (kind == 'f') {
    if (size == 2) return ElementType::Float16;
    if (size == 4) return ElementType::Float;
    if (size == 8) return ElementType::Double;
  }
  if (kind == 'i') {
    if (size == 1) return ElementType::Int8;
    if (size == 2) return ElementType::Int16;
    if (size == 4) return ElementType::Int32;
    if (size == 8) return ElementType::Int64;
  }
  if (kind == 'u') {
    if (size == 1) return ElementType::UInt8;
    if (size == 2) return ElementType::UInt16;
    if (size == 4) return ElementType::UInt32;
    if (size == 8) return ElementType::UInt64;
  }
  throw py::type_error(fmt::format("{}: numpy dtype {} has no ONNX element type", what,
                                   py::str(static_cast<const py::handle&>(dtype)).cast<std::string>()));
}

namespace {

// Each element of a str, bytes or object array as UTF-8.
std::vector<std::string> strings_of(const py::array& array, const std::string& what) {
  std::vector<std::string> values;
  values.reserve(static_cast<std::size_t>(array.size()));
  for (const py::handle item : array.attr("ravel")().attr("tolist")()) {
    if (py::isinstance<py::str>(item)) {
      values.push_back(item.cast<std::string>());
    } else if (py::isinstance<py::bytes>(item)) {
      values.push_back(item.cast<py::bytes>().cast<std::string>());
    } else {
      throw py::type_error(fmt::format("{}: a string tensor's elements must be str or bytes, not {}", what,
                                       py::str(item.get_type().attr("__name__")).cast<std::string>()));
    }
  }
  return values;
}

// Keeps an ndarray alive for the tensors that view it; released under the GIL, whichever thread drops
// the last tensor (a worker's, once the item has run).
std::shared_ptr<const void> hold(const py::array& array) {
  return {new py::object(array), [](const void* held) {
            const py::gil_scoped_acquire gil;
            delete static_cast<const py::object*>(held);
          }};
}

}  // namespace

Tensor to_tensor(const py::handle& value, const std::string& what) {
  py::array array = py::array::ensure(value);
  if (!array) throw py::type_error(fmt::format("{}: not an array (numpy.asarray refused it)", what));
  const ElementType type = element_type_of(array.dtype(), what);
  Shape shape(array.shape(), array.shape() + array.ndim());
  if (type == ElementType::String) return Tensor::from_strings(std::move(shape), strings_of(array, what));
  // In place when numpy's layout is the tensor's; else one copy into that layout.
  const bool usable = (array.flags() & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0 &&
                      (array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0 &&
                      array.dtype().attr("isnative").cast<bool>();
  if (!usable) {
    array = py::array(
        py::module_::import("numpy").attr("ascontiguousarray")(array, array.dtype().attr("newbyteorder")("=")));
  }
  const auto* data = static_cast<const std::byte*>(array.data());
  return Tensor::view(type, std::move(shape), data, hold(array));
}

py::array to_array(Tensor tensor) {
  std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  if (tensor.element_type() == ElementType::String) {
    py::list values;
    for (const auto& text : tensor.strings()) values.append(py::str(text));
    const auto numpy = py::module_::import("numpy");
    if (tensor.element_count() == 0) return numpy.attr("empty")(py::cast(shape), "U1");
    return numpy.attr("array")(values, "str").attr("reshape")(py::cast(shape));
  }
  const py::dtype dtype = dtype_of(tensor.element_type());
  auto owned = std::make_unique<Tensor>(std::move(tensor));
  void* data = owned->raw_data();  // owned storage (a view would be copied once here)
  const py::capsule keeper(owned.get(), [](void* p) { delete static_cast<Tensor*>(p); });
  static_cast<void>(owned.release());
  return {dtype, shape, data, keeper};
}

}  // namespace onnxpool::python
