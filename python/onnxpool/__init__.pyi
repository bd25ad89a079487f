# Type stubs of the onnxpool package (the native module's functions and the Python classes).
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from os import PathLike
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

__version__: str
ort_version: str

Inputs = Mapping[str, npt.ArrayLike]
Outputs = dict[str, np.ndarray]

class Error(RuntimeError): ...

class ItemError(Error):
    item: int
    worker: str
    cause: str
    def __init__(self, message: str, item: int, worker: str, cause: str) -> None: ...

class RunError(Error):
    items: int
    failures: list[ItemError]
    outputs: dict[str, np.ndarray]  # set by run_array: the stacked outputs, failed rows zero
    def __init__(self, message: str, items: int, failures: list[ItemError]) -> None: ...

@dataclass(frozen=True)
class ValueInfo:
    name: str
    dtype: np.dtype[Any] | None
    type: str
    shape: tuple[int | str | None, ...]

@dataclass(frozen=True)
class ModelInfo:
    path: str
    inputs: tuple[ValueInfo, ...]
    outputs: tuple[ValueInfo, ...]
    opsets: dict[str, int]
    ir_version: int
    producer: str
    graph: str
    description: str
    metadata: dict[str, str]
    batchable: bool

def inspect(path: str | PathLike[str]) -> ModelInfo: ...
def devices() -> dict[str, Any]: ...

class Pool:
    def __init__(
        self,
        model: str | PathLike[str],
        *,
        workers: int | None = None,
        threads: int | None = None,
        devices: str | Sequence[str] | None = None,
        policy: Literal["dynamic", "static"] = "dynamic",
        batch: int | None = None,
        pin: bool = False,
        oversubscribe: bool = False,
    ) -> None: ...
    def run(self, inputs: Inputs) -> Outputs: ...
    def run_all(self, items: Iterable[Inputs]) -> list[Outputs]: ...
    def submit(self, inputs: Inputs) -> Future[Outputs]: ...
    def map(self, items: Iterable[Inputs], window: int | None = None) -> Iterator[Outputs]: ...
    @overload
    def run_array(
        self, inputs: Mapping[str, npt.ArrayLike], *, window: int | None = None, errors: Literal["raise"] = "raise"
    ) -> dict[str, np.ndarray]: ...
    @overload
    def run_array(
        self, inputs: Mapping[str, npt.ArrayLike], *, window: int | None = None, errors: Literal["keep"]
    ) -> tuple[dict[str, np.ndarray], list[ItemError]]: ...
    def stats(self) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def model(self) -> str: ...
    def __len__(self) -> int: ...
    def __enter__(self) -> Pool: ...
    def __exit__(self, *exc: object) -> None: ...
