"""onnxpool's exceptions. The native module raises these classes (never its own)."""


class Error(RuntimeError):
    """An error of onnxpool: a model, a file or a device that cannot be used, a closed pool."""


class ItemError(Error):
    """One item failed: `.item` (its index in the call: 0 for run()), `.worker` (the worker's name, ""
    when it failed before reaching one) and `.cause` (the message without them)."""

    def __init__(self, message: str, item: int, worker: str, cause: str):
        super().__init__(message)
        self.item = item
        self.worker = worker
        self.cause = cause

    def __reduce__(self):  # picklable, as exceptions crossing processes must be
        return (type(self), (str(self), self.item, self.worker, self.cause))


class RunError(Error):
    """Some items of a run_all failed: `.failures` holds one ItemError per failed item, by index;
    `.items` is how many the call had."""

    def __init__(self, message: str, items: int, failures: list):
        super().__init__(message)
        self.items = items
        self.failures = list(failures)

    def __reduce__(self):
        return (type(self), (str(self), self.items, self.failures))
