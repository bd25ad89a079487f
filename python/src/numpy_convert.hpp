#pragma once
// numpy arrays <-> onnxpool tensors, for every ONNX element type numpy has (bfloat16 excepted: numpy
// has no such type). Inputs are read in place when they can be (C-contiguous, aligned, native byte
// order, numeric or bool): the tensor is a view holding a reference to the array, so an array must not
// be modified until the run that reads it has returned. Outputs become arrays owning the tensor's
// buffer: no copy.
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool::python {

namespace py = pybind11;

// numpy's dtype for an element type. Throws py::type_error for bfloat16 and undefined.
py::dtype dtype_of(ElementType type);
// The element type of a numpy dtype; strings (str, bytes, object arrays of str) are String. Throws
// py::type_error naming the dtype and `what` ("input 'x'").
ElementType element_type_of(const py::dtype& dtype, const std::string& what);

// `value` (an ndarray, or anything numpy.asarray takes) as a tensor. `what` names it in errors.
Tensor to_tensor(const py::handle& value, const std::string& what);
// The tensor as an ndarray that owns its buffer (strings: a numpy str_ array).
py::array to_array(Tensor tensor);

}  // namespace onnxpool::python
