#!/usr/bin/env bash
# pyproject.toml's build: `pip wheel` (no index, no build isolation: Debian's setuptools) from the
# build folder CI made, installed with `pip install --target` into an empty folder and imported from
# there alone, from another directory: the wheel carries the module, libonnxpool, ONNX Runtime and the
# libraries they link.
#   wheel_test.sh PYTHON SOURCE_DIR BUILD_DIR MODEL
set -euo pipefail
python=$1 source=$2 build=$3 model=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/onnxpool-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$source"
ONNXPOOL_BUILD_DIR="$build" "$python" -m pip wheel -q --no-build-isolation --no-deps --no-index -w "$work/wheel" . >&2
"$python" -m pip install -q --no-index --no-deps --target "$work/site" "$work"/wheel/onnxpool-*.whl 2>&1 |
  grep -v "Running pip as the 'root' user" >&2 || true
cd "$work"
PYTHONPATH="$work/site" "$python" - "$work/site" "$model" <<'PY'
import sys

import numpy as np

import onnxpool

site, model = sys.argv[1], sys.argv[2]
assert onnxpool.__file__ == f"{site}/onnxpool/__init__.py", onnxpool.__file__
with onnxpool.Pool(model, workers=1) as pool:
    out = pool.run({"a": np.ones((2, 4), np.float32), "b": np.full((2, 4), 3, np.float32)})
assert (out["sum"] == 4).all() and (out["prod"] == 3).all(), out
print("wheel: ok", onnxpool.__version__)
PY
