"""Image classifiers with random weights: torchvision's MobileNetV2 and ResNet18 architectures.

The graphs look like a torchvision export after BatchNorm folding (what onnxruntime or
onnx-simplifier leave behind): Conv with bias, no BatchNormalization nodes. Weights are random but
scaled so activations stay in a sane range through the whole network (He-normal convolutions,
BatchNorm statistics near the identity), which keeps the outputs finite and lets benchmarks run
on realistic numbers rather than on zeros or overflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx

from .builder import FLOAT, GraphBuilder

BN_EPS = 1e-5


@dataclass
class Act:
    """A feature map flowing through the builder: its value name, channels and spatial size."""
    name: str
    channels: int
    size: int  # height == width for these square-input models


def fold_batch_norm(weight, gamma, beta, mean, var):
    """Folds BatchNorm(gamma, beta, mean, var) into the preceding bias-free conv: (W', b')."""
    scale = gamma / np.sqrt(var + BN_EPS)
    folded_weight = (weight * scale[:, None, None, None]).astype(np.float32)
    folded_bias = (beta - mean * scale).astype(np.float32)
    return folded_weight, folded_bias


def conv_bn(b: GraphBuilder, x: Act, out_ch: int, kernel: int, stride: int, prefix: str,
            groups: int = 1, activation: str | None = None, gain: float = 2.0) -> Act:
    """Conv(kernel, stride, pad=kernel//2, groups) + folded BatchNorm + optional activation.

    gain is the numerator of the He/LeCun variance: 2 when a rectifier follows (He), 1 for the
    linear projections that feed a residual sum (LeCun), so the sums do not blow up with depth.
    """
    fan_in = (x.channels // groups) * kernel * kernel
    weight = b.normal((out_ch, x.channels // groups, kernel, kernel), np.sqrt(gain / fan_in))
    # BatchNorm statistics close to, but not exactly, the identity: folding then really changes
    # the weights, and the bias is small but non-zero.
    gamma = b.uniform(out_ch, 0.9, 1.1)
    beta = b.normal(out_ch, 0.05)
    mean = b.normal(out_ch, 0.05)
    var = b.uniform(out_ch, 0.9, 1.1)
    w, bias = fold_batch_norm(weight, gamma, beta, mean, var)

    pad = kernel // 2
    y = b.node("Conv", [x.name, b.weight(prefix + ".weight", w), b.weight(prefix + ".bias", bias)],
               kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4,
               group=groups)
    size = (x.size + 2 * pad - kernel) // stride + 1
    b.macs += out_ch * size * size * fan_in
    if activation == "relu":
        y = b.node("Relu", [y])
    elif activation == "relu6":
        # opset >= 11 Clip takes min/max as (scalar) inputs rather than attributes.
        y = b.node("Clip", [y, b.const(0.0, np.float32, "relu6_min"),
                            b.const(6.0, np.float32, "relu6_max")])
    return Act(y, out_ch, size)


def classifier(b: GraphBuilder, x: Act, classes: int, std: float, out: str) -> str:
    """GlobalAveragePool + Flatten + Gemm(transB=1): the torchvision head as exported."""
    pooled = b.node("GlobalAveragePool", [x.name])
    flat = b.node("Flatten", [pooled], axis=1)
    weight = b.weight("fc.weight", b.normal((classes, x.channels), std))
    bias = b.weight("fc.bias", b.normal(classes, 0.01))
    b.macs += classes * x.channels
    return b.node("Gemm", [flat, weight, bias], out=out, transB=1)


# ---- MobileNetV2 -----------------------------------------------------------------------------

# torchvision's inverted_residual_setting: expansion t, output channels c, repeats n, stride s.
MOBILENETV2_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                        (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def inverted_residual(b: GraphBuilder, x: Act, out_ch: int, stride: int, expand: int,
                      prefix: str) -> Act:
    """torchvision InvertedResidual: [1x1 expand] -> 3x3 depthwise -> 1x1 linear projection."""
    h = x
    if expand != 1:
        h = conv_bn(b, h, x.channels * expand, 1, 1, f"{prefix}.expand", activation="relu6")
    h = conv_bn(b, h, h.channels, 3, stride, f"{prefix}.depthwise", groups=h.channels,
                activation="relu6")
    h = conv_bn(b, h, out_ch, 1, 1, f"{prefix}.project", gain=1.0)
    if stride == 1 and x.channels == out_ch:
        h = Act(b.node("Add", [x.name, h.name]), out_ch, h.size)
    return h


def mobilenetv2(seed: int = 2) -> tuple[onnx.ModelProto, GraphBuilder]:
    """MobileNetV2 (Sandler et al. 2018) as torchvision.models.mobilenet_v2(width_mult=1.0).

    Mirrors a torchvision export with BatchNorm folded into the convolutions and ReLU6 as Clip.
    Input `input` float32[batch_size,3,224,224], output `output` float32[batch_size,1000] (logits).
    Random weights: ~3.5 M parameters, ~0.30 GMAC per image.
    """
    b = GraphBuilder("mobilenetv2", seed)
    x = Act(b.input("input", FLOAT, ["batch_size", 3, 224, 224]), 3, 224)
    x = conv_bn(b, x, 32, 3, 2, "features.0", activation="relu6")
    block = 1
    for t, c, n, s in MOBILENETV2_SETTINGS:
        for i in range(n):
            x = inverted_residual(b, x, c, s if i == 0 else 1, t, f"features.{block}")
            block += 1
    x = conv_bn(b, x, 1280, 1, 1, f"features.{block}", activation="relu6")
    b.output("output", FLOAT, ["batch_size", 1000])
    # torchvision initialises the classifier with N(0, 0.01).
    classifier(b, x, 1000, 0.01, out="output")
    return b.finish(mobilenetv2.__doc__), b


# ---- ResNet18 --------------------------------------------------------------------------------

def basic_block(b: GraphBuilder, x: Act, out_ch: int, stride: int, prefix: str) -> Act:
    """torchvision BasicBlock: two 3x3 convs, identity or 1x1 projection shortcut, Relu(sum)."""
    h = conv_bn(b, x, out_ch, 3, stride, f"{prefix}.conv1", activation="relu")
    h = conv_bn(b, h, out_ch, 3, 1, f"{prefix}.conv2", gain=1.0)
    shortcut = x
    if stride != 1 or x.channels != out_ch:
        shortcut = conv_bn(b, x, out_ch, 1, stride, f"{prefix}.downsample", gain=1.0)
    total = b.node("Add", [h.name, shortcut.name])
    return Act(b.node("Relu", [total]), out_ch, h.size)


def resnet18(seed: int = 3) -> tuple[onnx.ModelProto, GraphBuilder]:
    """ResNet18 v1 (He et al. 2015) as torchvision.models.resnet18(): the ONNX model zoo layout.

    BatchNorm folded into the convolutions; a stage that halves the size does it in its first
    3x3 conv and in a 1x1 projection shortcut.
    Input `data` float32[N,3,224,224], output `output` float32[N,1000] (logits).
    Random weights: ~11.7 M parameters, ~1.8 GMAC per image.
    """
    b = GraphBuilder("resnet18", seed)
    x = Act(b.input("data", FLOAT, ["N", 3, 224, 224]), 3, 224)
    x = conv_bn(b, x, 64, 7, 2, "conv1", activation="relu")
    pooled = b.node("MaxPool", [x.name], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    x = Act(pooled, 64, (x.size + 2 - 3) // 2 + 1)
    for stage, channels in enumerate([64, 128, 256, 512], start=1):
        for i in range(2):
            stride = 2 if stage > 1 and i == 0 else 1
            x = basic_block(b, x, channels, stride, f"layer{stage}.{i}")
    b.output("output", FLOAT, ["N", 1000])
    classifier(b, x, 1000, np.sqrt(1.0 / x.channels), out="output")
    return b.finish(resnet18.__doc__), b
