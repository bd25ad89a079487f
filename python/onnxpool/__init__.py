"""onnxpool: one ONNX model over many inputs, as fast as the machine allows.

    import numpy as np, onnxpool
    with onnxpool.Pool("mobilenetv2.onnx") as pool:
        outputs = pool.run_all([{"input": image} for image in images])

A Pool holds several ONNX Runtime sessions (workers) over one model and one scheduler; every run and
wait releases the GIL, so Python threads calling one pool proceed in parallel.
"""
from dataclasses import dataclass

from ._errors import Error, ItemError, RunError
from ._onnxpool import __version__, devices, ort_version
from ._onnxpool import _inspect
from ._pool import Pool

__all__ = ["Pool", "Error", "ItemError", "RunError", "ModelInfo", "ValueInfo", "inspect", "devices",
           "__version__", "ort_version"]


@dataclass(frozen=True)
class ValueInfo:
    """An input or output: its name, numpy dtype (None when numpy has none, e.g. bfloat16), ONNX
    element type name, and shape (an int per fixed dim, a str per named symbolic dim, None per
    unnamed one)."""
    name: str
    dtype: object
    type: str
    shape: tuple


@dataclass(frozen=True)
class ModelInfo:
    """What inspect() reads from a model file."""
    path: str
    inputs: tuple
    outputs: tuple
    opsets: dict
    ir_version: int
    producer: str
    graph: str
    description: str
    metadata: dict
    batchable: bool  # every input and output has a symbolic first (batch) dim


def inspect(path) -> ModelInfo:
    """The inputs and outputs of the model at `path` (names, dtypes, symbolic dims), its opsets and
    metadata. Raises onnxpool.Error for a missing, empty or corrupt file."""
    raw = _inspect(str(path))
    values = lambda key: tuple(ValueInfo(**value) for value in raw[key])  # noqa: E731
    return ModelInfo(**{**raw, "inputs": values("inputs"), "outputs": values("outputs")})
