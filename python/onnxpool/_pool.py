"""onnxpool.Pool: the native pool (sessions, scheduler; every run and wait without the GIL) with what is
Python's on top: futures, a streaming map, arrays whose first dim indexes items, pickling."""
import collections
import concurrent.futures
import queue
import threading

import numpy as np

from . import _onnxpool
from ._errors import Error, ItemError, RunError

_OPTIONS = ("workers", "threads", "devices", "policy", "batch", "pin", "oversubscribe")


class Pool:
    """A pool of ONNX Runtime sessions (workers) over one model, fed by one scheduler.

    Pool(model, *, workers=None, threads=None, devices=None, policy="dynamic", batch=None, pin=False,
         oversubscribe=False)

    workers, threads: CPU workers (sessions) and intra-op threads each; by default chosen for the CPUs
    this process may use (one single-thread worker per core up to 8 cores). devices: the CLI's device
    list instead ("cpu:2*2", "cpu,cuda:0", or a list of such entries). policy: "dynamic" (a free worker takes the next item) or
    "static" (items split round robin up front). batch: items a worker stacks into one run (the model
    needs a symbolic first dim). oversubscribe: accept more than 8 threads per core.

    The sessions are made at once, with the GIL released; close() (or leaving a `with` block) waits
    for the items in flight and frees them. Every run and wait releases the GIL: Python threads
    sharing one pool run in parallel.

    Inputs are dicts {input name: array}. Arrays are read in place when C-contiguous, aligned and of
    the input's dtype (do not modify one until its run has returned); others are copied once; lists
    and numbers take the input's dtype. Outputs are dicts {output name: array} of arrays that own
    their memory.

    A Pool pickles as its model path and options, and the copy makes its sessions when first used, in
    the process that unpickled it (sessions cannot be pickled or forked): it can be shipped to Spark,
    Ray, Dask or multiprocessing workers.
    """

    def __init__(self, model, *, workers=None, threads=None, devices=None, policy="dynamic", batch=None,
                 pin=False, oversubscribe=False):
        self._model = str(model)
        if isinstance(devices, (list, tuple)):  # ["cpu:2", "cuda:0"] as well as "cpu:2,cuda:0"
            devices = ",".join(str(device) for device in devices)
        self._options = {"workers": workers, "threads": threads, "devices": devices, "policy": policy,
                         "batch": batch, "pin": pin, "oversubscribe": oversubscribe}
        self._setup()
        self._native = _onnxpool._Pool(self._model, **self._options)

    def _setup(self):
        self._native = None
        self._lock = threading.Lock()
        self._completer = None  # submit()'s thread, started by the first submit
        self._completions = None
        self._closed = False

    def _pool(self):
        """The native pool, made here when this Pool was unpickled and not used yet."""
        native = self._native
        if native is not None:
            return native
        with self._lock:
            if self._closed:
                raise Error(f"{self._model}: the pool is closed")
            if self._native is None:
                self._native = _onnxpool._Pool(self._model, **self._options)
            return self._native

    # --- pickling: the model path and the options, sessions made again where unpickled ---
    def __getstate__(self):
        return {"model": self._model, "options": dict(self._options)}

    def __setstate__(self, state):
        self._model = state["model"]
        self._options = {name: state["options"].get(name) for name in _OPTIONS}
        self._setup()

    # --- running ---
    def run(self, inputs):
        """Runs one item, {input name: array}, and returns {output name: array}. Raises ItemError when
        the item fails, ValueError or TypeError for inputs the model refuses."""
        return self._pool().run(inputs)

    def run_all(self, items):
        """Runs every item of a sequence of input dicts; returns their output dicts in order. Raises
        RunError (.failures: an ItemError per failed item, by index) when any fails."""
        return self._pool().run_all(items)

    def submit(self, inputs):
        """Hands one item to the pool and returns a concurrent.futures.Future of its outputs (so
        asyncio.wrap_future works). The inputs are read when the item runs: keep their arrays
        unmodified until the future is done."""
        pending = self._pool().submit(inputs)
        future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()  # handed over: it cannot be cancelled any more
        with self._lock:
            if self._completer is None:
                self._completions = queue.SimpleQueue()
                self._completer = threading.Thread(target=_complete, args=(self._completions,),
                                                   name="onnxpool-submit", daemon=True)
                self._completer.start()
            self._completions.put((pending, future))
        return future

    def map(self, items, window=None):
        """Yields the outputs of each item of an iterable (a generator of a million items is fine), in
        input order, with at most `window` items read ahead and in flight (default: 4 per worker), so
        memory stays flat. Raises ItemError (its .item: the position in `items`) at the first failed
        item; the generator then ends."""
        for index, result, error in self._results(items, window):
            if error is not None:
                raise error
            yield result

    def run_array(self, inputs, *, window=None, errors="raise"):
        """Runs the items of arrays whose first dim indexes them: {"input": X} with X of shape
        [N, 3, 224, 224] (an ndarray or a numpy.memmap: rows are read as they are run) gives
        {"output": Y} with Y of shape [N, 1000]. For a model whose input has a batch dim, item i is
        X[i:i+1] and row i of Y its output's first row; else item i is X[i].

        errors="raise": when items fail, RunError (.failures: an ItemError per failed item, .outputs:
        the stacked outputs, failed rows zero) once every item has run. errors="keep": returns
        (outputs, failures) instead, failed rows zero."""
        if errors not in ("raise", "keep"):
            raise ValueError(f"errors={errors!r}: give 'raise' or 'keep'")
        if not isinstance(inputs, dict) or not inputs:
            raise TypeError("run_array takes a dict {input name: array whose first dim indexes items}")
        arrays = {name: value if isinstance(value, np.ndarray) else np.asarray(value)
                  for name, value in inputs.items()}
        counts = {name: (array.shape[0] if array.ndim > 0 else None) for name, array in arrays.items()}
        if None in counts.values() or len(set(counts.values())) != 1:
            raise ValueError(f"the arrays' first dims must all give the item count: {counts}")
        count = next(iter(counts.values()))
        ranks = self._pool().input_ranks  # the model the pool loaded: not inspected again
        keep_dim = {name: array.ndim == ranks.get(name, array.ndim - 1) for name, array in arrays.items()}

        def item(i):
            return {name: (array[i:i + 1] if keep_dim[name] else array[i]) for name, array in arrays.items()}

        outputs, failures = {}, []
        batched = all(keep_dim.values())
        for index, result, error in self._results((item(i) for i in range(count)), window):
            if error is not None:
                failures.append(error)
                continue
            for name, value in result.items():
                row = value[0] if batched and value.ndim > 0 and value.shape[0] == 1 else value
                if name not in outputs:
                    outputs[name] = np.zeros((count,) + row.shape, dtype=row.dtype)
                if outputs[name].shape[1:] != row.shape:
                    raise Error(f"item {index}: output '{name}' has shape {row.shape}, the earlier items' "
                                f"{outputs[name].shape[1:]}: outputs of varying shapes cannot be stacked")
                outputs[name][index] = row
        if errors == "keep":
            return outputs, failures
        if failures:
            raised = RunError(f"{len(failures)} of {count} items failed; first: {failures[0]}", count, failures)
            raised.outputs = outputs
            raise raised
        return outputs

    def _results(self, items, window):
        """(index, outputs, None) or (index, None, ItemError) per item, in order, at most `window` in
        flight."""
        native = self._pool()
        window = window if window is not None else 4 * len(native)
        if window < 1:
            raise ValueError(f"window={window}: give at least 1")
        in_flight = collections.deque()

        def take():
            index, pending = in_flight.popleft()
            try:
                return index, pending.result(), None
            except ItemError as e:
                return index, None, ItemError(f"item {index} on worker {e.worker}: {e.cause}" if e.worker
                                              else f"item {index}: {e.cause}", index, e.worker, e.cause)

        for index, inputs in enumerate(items):
            in_flight.append((index, native.submit(inputs)))
            if len(in_flight) >= window:
                yield take()
        while in_flight:
            yield take()

    # --- the pool itself ---
    def stats(self):
        """Per worker: name, threads, items, runs, busy_seconds."""
        return self._pool().stats()

    def close(self):
        """Waits for the items in flight and frees the sessions; later calls raise onnxpool.Error."""
        with self._lock:
            self._closed = True
            native, self._native = self._native, None
            completer, self._completer = self._completer, None
            completions = self._completions
        if native is not None:
            native.close()
        if completer is not None:
            completions.put(None)
            completer.join()

    @property
    def closed(self):
        return self._closed

    @property
    def in_flight(self):
        """Items handed to the pool (by run, run_all, submit, map, run_array) whose results have not been
        returned yet; 0 for a pool not started."""
        native = self._native
        return native.in_flight if native is not None else 0

    @property
    def model(self):
        return self._model

    def __len__(self):
        """The number of workers."""
        return len(self._pool())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self._options.items() if v not in (None, False))
        state = "closed" if self._closed else ("not started" if self._native is None else f"{len(self)} workers")
        return f"onnxpool.Pool({self._model!r}{', ' if options else ''}{options}) [{state}]"


def _complete(completions):
    """submit()'s thread: sets each future from its pending result, in submission order, until None."""
    while True:
        entry = completions.get()
        if entry is None:
            return
        pending, future = entry
        try:
            future.set_result(pending.result())
        except BaseException as e:  # noqa: B902 - the future carries whatever the item raised
            future.set_exception(e)
