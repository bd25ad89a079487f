"""Shared fixtures: the generated models (ONNXPOOL_MODEL_DIR, set by CTest)."""
import os
import pathlib

import pytest


@pytest.fixture(scope="session")
def models() -> pathlib.Path:
    folder = os.environ.get("ONNXPOOL_MODEL_DIR")
    if not folder:
        pytest.fail("ONNXPOOL_MODEL_DIR is not set: run through ctest (or set it to build/models)")
    return pathlib.Path(folder)
