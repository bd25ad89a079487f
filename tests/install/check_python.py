"""Run by install_test.cmake: the package imported from the moved install tree runs a model.

    check_python.py TREE MODEL
"""
import sys

import numpy as np

import onnxpool

tree, model = sys.argv[1], sys.argv[2]
assert onnxpool.__file__.startswith(tree + "/"), f"imported from {onnxpool.__file__}, not from {tree}"
one = np.ones((1, 4), np.float32)
with onnxpool.Pool(model, workers=1) as pool:
    out = pool.run({"a": one, "b": one})
assert (out["sum"] == 2).all() and (out["prod"] == 1).all(), out
print(f"onnxpool {onnxpool.__version__} from {onnxpool.__file__}", end="")
