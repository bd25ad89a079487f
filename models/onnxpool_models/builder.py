"""A thin, deterministic wrapper around onnx.helper for building the generated models.

Every model is built the same way: add inputs, initializers and nodes to a GraphBuilder, declare
the outputs, then call finish(). Node and tensor names come from counters, never from ids or
hashes, and random values come from one numpy Generator per model, so a model's bytes depend only
on this code and its seed (two runs, or a run with --only, give byte-identical files).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, mapping, numpy_helper, shape_inference

OPSET = 17       # the newest opset python3-onnx 1.12 knows; it has LayerNormalization
IR_VERSION = 8   # the IR version that goes with opset 17
PRODUCER = "onnxpool models/generate.py"

FLOAT = onnx.TensorProto.FLOAT
INT64 = onnx.TensorProto.INT64


class GraphBuilder:
    """Collects the pieces of one ONNX graph and turns them into a checked ModelProto."""

    def __init__(self, name: str, seed: int):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.param_count = 0      # elements of trainable weights (not shape/axes helper constants)
        self.macs = 0             # multiply-accumulates per sample, where the builder tracks them
        self._counters: dict[str, int] = {}
        self._constants: dict[tuple, str] = {}

    # ---- names --------------------------------------------------------------------------------

    def fresh(self, prefix: str) -> str:
        """A new unique value/node name: prefix_0, prefix_1, ..."""
        n = self._counters.get(prefix, 0)
        self._counters[prefix] = n + 1
        return f"{prefix}_{n}"

    # ---- graph interface ----------------------------------------------------------------------

    def input(self, name: str, elem_type: int, shape: list) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def output(self, name: str, elem_type: int, shape: list) -> str:
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def weight(self, name: str, array: np.ndarray) -> str:
        """A trainable parameter: counted in param_count."""
        # np.asarray, not np.ascontiguousarray: the latter turns a rank-0 array into shape [1].
        tensor = numpy_helper.from_array(np.asarray(array, order="C"), name)
        self.initializers.append(tensor)
        self.param_count += int(array.size)
        return name

    def const(self, array, dtype=np.int64, name: str | None = None) -> str:
        """A helper constant (shape, axes, scalar): not a parameter. Equal constants are shared."""
        arr = np.asarray(array, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes(), name)
        if key not in self._constants:
            tensor_name = name or self.fresh("const")
            self.initializers.append(numpy_helper.from_array(arr, tensor_name))
            self._constants[key] = tensor_name
        return self._constants[key]

    def node(self, op: str, inputs: list[str], n_outputs: int = 1,
             out: str | list[str] | None = None, **attrs):
        """Adds one node; returns its output name (or the list of names when n_outputs > 1)."""
        if out is None:
            outputs = [self.fresh(op.lower()) for _ in range(n_outputs)]
        else:
            outputs = [out] if isinstance(out, str) else list(out)
        node_name = self.fresh("n_" + op)
        self.nodes.append(helper.make_node(op, inputs, outputs, name=node_name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    # ---- random initial values ----------------------------------------------------------------

    def normal(self, shape, std: float) -> np.ndarray:
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def uniform(self, shape, low: float, high: float) -> np.ndarray:
        return self.rng.uniform(low, high, shape).astype(np.float32)

    # ---- result -------------------------------------------------------------------------------

    def finish(self, doc: str, metadata: dict[str, str] | None = None) -> onnx.ModelProto:
        """Builds the model, runs the checker and strict shape inference, and returns it.

        The returned model carries no inferred value_info for intermediates: ONNX Runtime infers
        them itself, and leaving them out keeps the files small and the graphs easy to read.
        """
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                  initializer=self.initializers)
        model = helper.make_model(graph, producer_name=PRODUCER, doc_string=doc.strip(),
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        model.model_version = 1
        for key, value in (metadata or {}).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, str(value)
        check(model)
        return model


def check(model: onnx.ModelProto) -> onnx.ModelProto:
    """onnx.checker plus strict shape inference; returns the inferred model (for inspection)."""
    onnx.checker.check_model(model, full_check=False)
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    declared = {o.name: o.type for o in model.graph.output}
    for out in inferred.graph.output:
        if out.type != declared[out.name]:
            raise ValueError(f"{model.graph.name}: output {out.name} inferred as {out.type}, "
                             f"declared {declared[out.name]}")
    return inferred


def shape_str(value_info: onnx.ValueInfoProto) -> str:
    """'name: float32[batch_size,3,224,224]' for the summary the generator prints."""
    t = value_info.type.tensor_type
    dims = ",".join(d.dim_param if d.HasField("dim_param") else str(d.dim_value)
                    for d in t.shape.dim)
    elem = mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type].name  # onnx 1.12 API
    return f"{value_info.name}: {elem}[{dims}]"
