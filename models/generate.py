#!/usr/bin/python3
"""Generates onnxpool's test and benchmark models (random weights) and reference data sets.

    /usr/bin/python3 models/generate.py --out DIR [--only NAME[,NAME...]] [--gpt2-preset small|gpt2]

Needs Debian's python3-onnx (1.12) and python3-numpy; scripts/setup.sh installs them. Output is
deterministic (fixed seeds, counter-based names): two runs give byte-identical files, and each
model has its own seed, so `--only x` writes the same x as a full run. Files are written to a
temporary name and renamed, so a crash never leaves half a model behind.

Default: every model and data set except gpt2.onnx (GPT-2 small's size, ~500 MB), which is made
only with `--only gpt2`. `--gpt2-preset` picks gpt2.onnx's size: `gpt2` (default, 124 M
parameters) or `small` (gpt2_tiny's config, to try that path quickly).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import numpy  # noqa: F401  (only to report a missing module clearly)
    import onnx
except ImportError as err:
    sys.exit(f"generate.py: {err}. Run it with Debian's /usr/bin/python3 after scripts/setup.sh "
             "(packages python3-onnx, python3-numpy).")

from onnxpool_models import datasets, gpt2, tiny, vision  # noqa: E402
from onnxpool_models.builder import OPSET, shape_str  # noqa: E402

# name -> (file name, function returning (ModelProto, GraphBuilder)); gpt2 is built in main().
MODELS = {
    "mobilenetv2": ("mobilenetv2.onnx", vision.mobilenetv2),
    "resnet18": ("resnet18.onnx", vision.resnet18),
    "gpt2_tiny": ("gpt2_tiny.onnx", lambda: gpt2.gpt2(gpt2.PRESETS["small"], "gpt2_tiny", 20)),
    "add_mul": ("add_mul.onnx", tiny.add_mul),
    "types": ("types.onnx", tiny.types),
    "more_types": ("more_types.onnx", tiny.more_types),
    "symbolic": ("symbolic.onnx", tiny.symbolic),
    "fails_sometimes": ("fails_sometimes.onnx", tiny.fails_sometimes),
    "batchless": ("batchless.onnx", tiny.batchless),
    "trivial": ("trivial.onnx", tiny.trivial),
    "varies": ("varies.onnx", tiny.varies),
    "strings": ("strings.onnx", tiny.strings),
    "image_identity": ("image_identity.onnx", tiny.image_identity),
    "image_identity_nhwc": ("image_identity_nhwc.onnx", tiny.image_identity_nhwc),
}
ON_REQUEST = ["gpt2"]            # never part of the default set
DATA = "test_data"               # the backend-test data sets (datasets.py)
ALL_NAMES = list(MODELS) + ON_REQUEST + [DATA]
DEFAULT_NAMES = list(MODELS) + [DATA]


def write_atomic(path: str, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over the target."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def describe(model: onnx.ModelProto, builder, data: bytes) -> str:
    g = model.graph
    lines = [f"  params {builder.param_count:,} ({builder.param_count / 1e6:.2f} M)"
             + (f", {builder.macs / 1e9:.3f} GMAC/sample" if builder.macs else "")
             + f", {len(g.node)} nodes, {len(data):,} bytes, sha256 "
             + hashlib.sha256(data).hexdigest()[:16]]
    lines += [f"  in  {shape_str(v)}" for v in g.input]
    lines += [f"  out {shape_str(v)}" for v in g.output]
    return "\n".join(lines)


def make_model(out_dir: str, file_name: str, build) -> None:
    start = time.monotonic()
    model, builder = build()
    data = model.SerializeToString()
    write_atomic(os.path.join(out_dir, file_name), data)
    print(f"{file_name} ({time.monotonic() - start:.1f} s)\n{describe(model, builder, data)}",
          flush=True)


def make_data(out_dir: str) -> None:
    files = datasets.all_data()
    for rel, data in files.items():  # the stamp comes last
        write_atomic(os.path.join(out_dir, rel), data)
    print(f"{DATA}: {len(files) - 1} files + {datasets.STAMP}", flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(ALL_NAMES))
    parser.add_argument("--gpt2-preset", choices=sorted(gpt2.PRESETS), default="gpt2",
                        help="size of gpt2.onnx (default: gpt2, i.e. GPT-2 small, 124 M params)")
    args = parser.parse_args(argv)
    args.names = DEFAULT_NAMES
    if args.only:
        args.names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in args.names if n not in ALL_NAMES]
        if unknown:
            parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(ALL_NAMES)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if onnx.defs.onnx_opset_version() < OPSET:
        sys.exit(f"generate.py: onnx {onnx.__version__} lacks opset {OPSET}")
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    for name in args.names:
        if name == DATA:
            make_data(out_dir)
        elif name == "gpt2":
            cfg = gpt2.PRESETS[args.gpt2_preset]
            make_model(out_dir, "gpt2.onnx", lambda: gpt2.gpt2(cfg, "gpt2", 21))
        else:
            make_model(out_dir, *MODELS[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
