#include "numpy_convert.hpp"

#include <array>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pybind11/stl.h>

namespace onnxpool::python {

namespace {

// numpy's kind letter of each numeric element type; the item size is the type's element_size, so one
// table serves both directions ("f" and 4 bytes: float32).
struct NumpyKind {
  ElementType type;
  char kind;
};
constexpr std::array kNumpyKinds{
    NumpyKind{ElementType::Float16, 'f'}, NumpyKind{ElementType::Float, 'f'},  NumpyKind{ElementType::Double, 'f'},
    NumpyKind{ElementType::Int8, 'i'},    NumpyKind{ElementType::Int16, 'i'},  NumpyKind{ElementType::Int32, 'i'},
    NumpyKind{ElementType::Int64, 'i'},   NumpyKind{ElementType::UInt8, 'u'},  NumpyKind{ElementType::UInt16, 'u'},
    NumpyKind{ElementType::UInt32, 'u'},  NumpyKind{ElementType::UInt64, 'u'}, NumpyKind{ElementType::Bool, 'b'},
};

}  // namespace

py::dtype dtype_of(ElementType type) {
  if (type == ElementType::String) return py::dtype("U1");
  for (const auto& entry : kNumpyKinds) {
    if (entry.type == type) return py::dtype(fmt::format("{}{}", entry.kind, element_size(type)));
  }
  throw py::type_error(fmt::format("element type {} has no numpy dtype", element_type_name(type)));
}

ElementType element_type_of(const py::dtype& dtype, const std::string& what) {
  const char kind = dtype.kind();
  if (kind == 'U' || kind == 'S' || kind == 'O') return ElementType::String;
  const auto size = static_cast<std::size_t>(dtype.itemsize());
  for (const auto& entry : kNumpyKinds) {
    if (entry.kind == kind && element_size(entry.type) == size) return entry.type;
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
