"""Tiny models (a few hundred bytes each) that pin down one behaviour of onnxpool each."""

from __future__ import annotations

import numpy as np
import onnx

from .builder import FLOAT, INT64, GraphBuilder

TP = onnx.TensorProto


def add_mul(seed: int = 10) -> tuple[onnx.ModelProto, GraphBuilder]:
    """Several inputs and outputs: `sum` = a + b and `prod` = a * b, float32[batch_size,4]."""
    b = GraphBuilder("add_mul", seed)
    a = b.input("a", FLOAT, ["batch_size", 4])
    x = b.input("b", FLOAT, ["batch_size", 4])
    b.output("sum", FLOAT, ["batch_size", 4])
    b.output("prod", FLOAT, ["batch_size", 4])
    b.node("Add", [a, x], out="sum")
    b.node("Mul", [a, x], out="prod")
    return b.finish(add_mul.__doc__), b


# (input name, element type, shape) of types.onnx, in graph order; shared with the data set.
TYPES_INPUTS = [("f16", TP.FLOAT16, [2, 3]), ("i64", TP.INT64, ["n"]), ("flag", TP.BOOL, [3]),
                ("u8", TP.UINT8, [2, 2]), ("scalar", TP.FLOAT, [])]


def types(seed: int = 11) -> tuple[onnx.ModelProto, GraphBuilder]:
    """One Identity per element type (float16, int64, bool, uint8, rank-0 float32) plus
    `i64_twice` = i64 + i64, to check tensor conversion of every type and of a scalar."""
    b = GraphBuilder("types", seed)
    for name, elem, shape in TYPES_INPUTS:
        b.input(name, elem, shape)
        b.output(name + "_out", elem, shape)
        b.node("Identity", [name], out=name + "_out")
    b.output("i64_twice", INT64, ["n"])
    b.node("Add", ["i64", "i64"], out="i64_twice")
    return b.finish(types.__doc__), b


# Every other numeric element type numpy has (types.onnx holds float16, int64, bool, uint8, float32).
MORE_TYPES = [("i8", TP.INT8), ("i16", TP.INT16), ("i32", TP.INT32), ("u16", TP.UINT16), ("u32", TP.UINT32),
              ("u64", TP.UINT64), ("f64", TP.DOUBLE)]


def more_types(seed: int = 20) -> tuple[onnx.ModelProto, GraphBuilder]:
    """One Identity per element type of MORE_TYPES, each [batch_size,2]: with types.onnx, every ONNX
    element type numpy has goes in and out (the Python package's dtype mapping)."""
    b = GraphBuilder("more_types", seed)
    for name, elem in MORE_TYPES:
        b.input(name, elem, ["batch_size", 2])
        b.output(name + "_out", elem, ["batch_size", 2])
        b.node("Identity", [name], out=name + "_out")
    return b.finish(more_types.__doc__), b


def symbolic(seed: int = 12) -> tuple[onnx.ModelProto, GraphBuilder]:
    """Several symbolic dims and one fixed: x float32[batch,channels,height,16],
    `y` = Relu(x) (same shape) and `z` = ReduceSum(x, axes=[2,3]) float32[batch,channels]."""
    b = GraphBuilder("symbolic", seed)
    shape = ["batch", "channels", "height", 16]
    x = b.input("x", FLOAT, shape)
    b.output("y", FLOAT, shape)
    b.output("z", FLOAT, ["batch", "channels"])
    b.node("Relu", [x], out="y")
    b.node("ReduceSum", [x, b.const([2, 3])], out="z", keepdims=0)  # axes is an input since 13
    return b.finish(symbolic.__doc__), b


FAILS_ROWS = 10


def fails_sometimes(seed: int = 13) -> tuple[onnx.ModelProto, GraphBuilder]:
    """Succeeds or fails at run time depending on the input: `y` = Gather(table, idx) with a
    constant float32[10,4] table. idx in [-10, 10) works; idx >= 10 (or < -10) makes ONNX
    Runtime's Gather kernel fail with an out-of-range error. Input `idx` int64[batch_size],
    output `y` float32[batch_size,4]. Used to test per-item error reporting in a batch run."""
    b = GraphBuilder("fails_sometimes", seed)
    idx = b.input("idx", INT64, ["batch_size"])
    b.output("y", FLOAT, ["batch_size", 4])
    # Rows are 0..9 scaled, so a test can tell from y which row it got.
    table = np.arange(FAILS_ROWS * 4, dtype=np.float32).reshape(FAILS_ROWS, 4)
    b.node("Gather", [b.weight("table", table), idx], out="y", axis=0)
    return b.finish(fails_sometimes.__doc__), b


def batchless(seed: int = 14) -> tuple[onnx.ModelProto, GraphBuilder]:
    """No symbolic batch dim: x float32[1,8], `y` = x * 2. Batching must be skipped for it."""
    b = GraphBuilder("batchless", seed)
    x = b.input("x", FLOAT, [1, 8])
    b.output("y", FLOAT, [1, 8])
    b.node("Mul", [x, b.const(2.0, np.float32)], out="y")
    return b.finish(batchless.__doc__), b


def trivial(seed: int = 15) -> tuple[onnx.ModelProto, GraphBuilder]:
    """Almost no work: `y` = x + 1, float32[batch_size,4]. For dispatch-overhead benchmarks
    (Add rather than Identity so that the output is a fresh tensor, as in real models)."""
    b = GraphBuilder("trivial", seed)
    x = b.input("x", FLOAT, ["batch_size", 4])
    b.output("y", FLOAT, ["batch_size", 4])
    b.node("Add", [x, b.const(1.0, np.float32)], out="y")
    return b.finish(trivial.__doc__), b


def varies(seed: int = 18) -> tuple[onnx.ModelProto, GraphBuilder]:
    """An output whose shape depends on the values: `positive` = NonZero(x > 0), int64[1,count] for
    x float32[n]; `count` is no input's dim, so items' outputs do not stack (run writes them per item)."""
    b = GraphBuilder("varies", seed)
    x = b.input("x", FLOAT, ["n"])
    b.output("positive", INT64, [1, "count"])
    b.node("Greater", [x, b.const(0.0, np.float32)], out="mask")
    b.node("NonZero", ["mask"], out="positive")
    return b.finish(varies.__doc__), b


def image_identity(seed: int = 16) -> tuple[onnx.ModelProto, GraphBuilder]:
    """An image classifier's input, handed back: `pixels` = Identity(image), image float32
    [batch_size,3,224,224] (NCHW). Lets tests see exactly what `run --images` feeds a model."""
    b = GraphBuilder("image_identity", seed)
    x = b.input("image", FLOAT, ["batch_size", 3, 224, 224])
    b.output("pixels", FLOAT, ["batch_size", 3, 224, 224])
    b.node("Identity", [x], out="pixels")
    return b.finish(image_identity.__doc__), b


def image_identity_nhwc(seed: int = 17) -> tuple[onnx.ModelProto, GraphBuilder]:
    """The same for a uint8 NHWC input with open height and width: image uint8
    [batch_size,height,width,3] -> `pixels` (224x224 unless --dim binds height and width)."""
    b = GraphBuilder("image_identity_nhwc", seed)
    shape = ["batch_size", "height", "width", 3]
    x = b.input("image", TP.UINT8, shape)
    b.output("pixels", TP.UINT8, shape)
    b.node("Identity", [x], out="pixels")
    return b.finish(image_identity_nhwc.__doc__), b


def strings(seed: int = 19) -> tuple[onnx.ModelProto, GraphBuilder]:
    """String outputs: `upper` = StringNormalizer(text, UPPER) and `same` = Identity(text), for
    text string[batch_size]. Stacked, they are numpy unicode arrays ('<U n', n the longest)."""
    b = GraphBuilder("strings", seed)
    text = b.input("text", TP.STRING, ["batch_size"])
    b.output("upper", TP.STRING, ["batch_size"])
    b.output("same", TP.STRING, ["batch_size"])
    # locale C: ONNX Runtime makes it C.UTF-8, which every Debian has (en_US.UTF-8 needs the locales package).
    b.node("StringNormalizer", [text], out="upper", case_change_action="UPPER", locale="C")
    b.node("Identity", [text], out="same")
    return b.finish(strings.__doc__), b
