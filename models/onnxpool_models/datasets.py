"""Reference inputs and outputs for the tiny models, in the ONNX backend-test layout.

    add_mul/test_data_set_0/input_0.pb ...  TensorProto files named after the graph inputs
    add_mul/test_data_set_0/output_0.pb ... and outputs, numbered in graph order
    add_mul/test_data_set_0_npy/a.npy ...   the same tensors as numpy.save files, named by tensor

Expected outputs are computed with numpy, independently of ONNX Runtime, so a `--compare` test
checks onnxpool against a second implementation.
"""

from __future__ import annotations

import io

import numpy as np
from onnx import mapping, numpy_helper

from .tiny import TYPES_INPUTS

STAMP = "test_data.stamp"  # written last, so build systems can depend on one file


def _pb(array: np.ndarray, name: str) -> bytes:
    # np.asarray, not np.ascontiguousarray: the latter turns a rank-0 array into shape [1].
    tensor = numpy_helper.from_array(np.asarray(array, order="C"), name)
    assert list(tensor.dims) == list(array.shape), name
    return tensor.SerializeToString()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def backend_test_set(folder: str, inputs: list[tuple[str, np.ndarray]],
                     outputs: list[tuple[str, np.ndarray]]) -> dict[str, bytes]:
    """input_K.pb / output_K.pb for (name, array) pairs given in graph order."""
    files = {}
    for kind, tensors in (("input", inputs), ("output", outputs)):
        for k, (name, array) in enumerate(tensors):
            files[f"{folder}/{kind}_{k}.pb"] = _pb(array, name)
    return files


def add_mul_data(seed: int = 100) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    inputs = [("a", a), ("b", b)]
    outputs = [("sum", a + b), ("prod", a * b)]
    files = backend_test_set("add_mul/test_data_set_0", inputs, outputs)
    for name, array in inputs + outputs:
        files[f"add_mul/test_data_set_0_npy/{name}.npy"] = _npy(array)
    return files


def types_data(seed: int = 101) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    values = {
        "f16": rng.standard_normal((2, 3)).astype(np.float16),
        "i64": rng.integers(-2**40, 2**40, size=5, dtype=np.int64),  # beyond int32 on purpose
        "flag": np.array([True, False, True]),
        "u8": rng.integers(0, 256, size=(2, 2), dtype=np.uint8),
        "scalar": np.array(rng.standard_normal(), dtype=np.float32),  # rank 0
    }
    for name, elem, _ in TYPES_INPUTS:  # keep the data in step with the model's declared types
        assert values[name].dtype == mapping.TENSOR_TYPE_TO_NP_TYPE[elem], name
    inputs = [(name, values[name]) for name, _, _ in TYPES_INPUTS]
    outputs = [(name + "_out", array) for name, array in inputs]
    outputs.append(("i64_twice", values["i64"] + values["i64"]))
    return backend_test_set("types/test_data_set_0", inputs, outputs)


def all_data() -> dict[str, bytes]:
    files = {**add_mul_data(), **types_data()}
    files[STAMP] = ("".join(f"{path}\n" for path in sorted(files))).encode()
    return files
