"""onnxpool.Pool from Python: results equal to a single session's, in order, every dtype, errors as
Python exceptions, the GIL released while items run."""
import threading

import numpy as np
import pytest

import onnxpool


def random_images(count: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [{"input": rng.standard_normal((1, 3, 224, 224), dtype=np.float32)} for _ in range(count)]


def test_versions():
    assert onnxpool.__version__ == "0.1.0"
    assert onnxpool.ort_version == "1.29.0"
    found = onnxpool.devices()
    assert found["onnxruntime_version"] == "1.29.0"
    assert "CPUExecutionProvider" in found["providers"]
    assert len(found["cpu"]["usable_cpus"]) >= 1
    assert 1 <= found["cpu"]["usable_count"] <= len(found["cpu"]["usable_cpus"])
    assert isinstance(found["cuda"]["usable"], bool)


def test_inspect_gives_names_dtypes_and_symbolic_dims(models):
    info = onnxpool.inspect(models / "symbolic.onnx")
    assert [v.name for v in info.inputs] == ["x"]
    assert info.inputs[0].dtype == np.float32
    assert info.inputs[0].shape == ("batch", "channels", "height", 16)
    assert [v.name for v in info.outputs] == ["y", "z"]
    assert info.outputs[1].shape == ("batch", "channels")
    assert info.batchable
    types = onnxpool.inspect(models / "types.onnx")
    assert [(v.name, v.dtype, v.shape) for v in types.inputs] == [
        ("f16", np.float16, (2, 3)), ("i64", np.int64, ("n",)), ("flag", np.bool_, (3,)),
        ("u8", np.uint8, (2, 2)), ("scalar", np.float32, ())]


def test_inspect_refuses_a_missing_file(tmp_path):
    with pytest.raises(onnxpool.Error, match="nope.onnx"):
        onnxpool.inspect(tmp_path / "nope.onnx")


def test_run_computes_the_models_outputs(models):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.full((3, 4), 0.5, dtype=np.float32)
    with onnxpool.Pool(str(models / "add_mul.onnx"), workers=2) as pool:
        out = pool.run({"a": a, "b": b})
    assert list(out) == ["sum", "prod"]
    np.testing.assert_array_equal(out["sum"], a + b)
    np.testing.assert_array_equal(out["prod"], a * b)
    assert pool.closed


def test_run_all_keeps_order_and_equals_one_session(models):
    items = random_images(8)
    with onnxpool.Pool(str(models / "mobilenetv2.onnx"), workers=1, threads=1) as single:
        expected = [single.run(item)["output"] for item in items]
    with onnxpool.Pool(str(models / "mobilenetv2.onnx"), devices=["cpu:1", "cpu:1"]) as pool:
        outputs = pool.run_all(items)
        stats = pool.stats()
    assert len(outputs) == 8
    for got, want in zip(outputs, expected):
        np.testing.assert_array_equal(got["output"], want)
    assert sum(worker["items"] for worker in stats) == 8
    assert [worker["name"] for worker in stats] == ["cpu#0", "cpu#1"]


def test_every_dtype_goes_in_and_out(models):
    rng = np.random.default_rng(3)
    item = {
        "f16": rng.standard_normal((2, 3)).astype(np.float16),
        "i64": rng.integers(-2**40, 2**40, size=5, dtype=np.int64),
        "flag": np.array([True, False, True]),
        "u8": rng.integers(0, 256, size=(2, 2), dtype=np.uint8),
        "scalar": np.array(1.5, dtype=np.float32),
    }
    with onnxpool.Pool(str(models / "types.onnx"), workers=1) as pool:
        out = pool.run(item)
    for name, value in item.items():
        assert out[name + "_out"].dtype == value.dtype, name
        np.testing.assert_array_equal(out[name + "_out"], value)
    np.testing.assert_array_equal(out["i64_twice"], item["i64"] * 2)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint16, np.uint32, np.uint64, np.float64])
def test_every_other_numeric_dtype_goes_in_and_out(models, dtype):
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else np.finfo(dtype)
    value = np.array([[info.min, info.max], [0, 1]], dtype=dtype)  # the extremes survive unchanged
    names = {np.int8: "i8", np.int16: "i16", np.int32: "i32", np.uint16: "u16", np.uint32: "u32",
             np.uint64: "u64", np.float64: "f64"}
    item = {name: np.zeros((2, 2), other) for other, name in names.items()}
    item[names[dtype]] = value
    with onnxpool.Pool(str(models / "more_types.onnx"), workers=1) as pool:
        out = pool.run(item)
        with pytest.raises(ValueError, match=f"input '{names[dtype]}'.*the model wants"):
            pool.run({**item, names[dtype]: value.astype(np.float32 if dtype != np.float32 else np.int8)})
    assert out[names[dtype] + "_out"].dtype == dtype
    np.testing.assert_array_equal(out[names[dtype] + "_out"], value)


def test_strings_go_in_and_out_as_numpy_str(models):
    text = np.array(["hello", "Wörld €", "", "x"])
    with onnxpool.Pool(str(models / "strings.onnx"), workers=1) as pool:
        out = pool.run({"text": text})
        from_list = pool.run({"text": np.array(["a", "b"], dtype=object)})
    assert out["same"].dtype.kind == "U"
    assert out["same"].tolist() == text.tolist()
    assert out["upper"].tolist() == ["HELLO", "WöRLD €", "", "X"]  # ONNX Runtime upper-cases ASCII only
    assert from_list["upper"].tolist() == ["A", "B"]


def test_arrays_in_any_layout_give_the_same_results(models):
    a = np.arange(24, dtype=np.float32).reshape(3, 8)
    b = np.ones((3, 4), dtype=np.float32)
    with onnxpool.Pool(str(models / "add_mul.onnx"), workers=1) as pool:
        strided = pool.run({"a": a[:, ::2], "b": b})  # not contiguous: copied once
        swapped = pool.run({"a": np.ascontiguousarray(a[:, ::2]).astype(">f4"), "b": b})  # big-endian
        listed = pool.run({"a": a[:, ::2].tolist(), "b": b})  # anything numpy.asarray takes
        contiguous = pool.run({"a": np.ascontiguousarray(a[:, ::2]), "b": b})
    for out in (strided, swapped):
        np.testing.assert_array_equal(out["sum"], contiguous["sum"])
    np.testing.assert_array_equal(listed["sum"], contiguous["sum"])  # a list takes the input's dtype


def test_outputs_own_their_memory(models):
    with onnxpool.Pool(str(models / "add_mul.onnx"), workers=1) as pool:
        item = {"a": np.ones((1, 4), np.float32), "b": np.ones((1, 4), np.float32)}
        first = pool.run(item)["sum"]
        first[0, 0] = 100.0  # writable, and no later result shares its memory
        second = pool.run(item)["sum"]
    assert first.flags.writeable and first.flags.c_contiguous
    np.testing.assert_array_equal(second, np.full((1, 4), 2.0, np.float32))


def test_bad_inputs_are_value_and_type_errors(models):
    with onnxpool.Pool(str(models / "add_mul.onnx"), workers=1) as pool:
        a = np.ones((1, 4), np.float32)
        with pytest.raises(ValueError, match=r"input 'b' float32 \[batch_size,4\] is missing"):
            pool.run({"a": a})
        with pytest.raises(ValueError, match=r"the model has no input 'c' \(its inputs: a, b\)"):
            pool.run({"a": a, "b": a, "c": a})
        with pytest.raises(ValueError, match="input 'b'.*element type int64, the model wants float32"):
            pool.run({"a": a, "b": np.ones((1, 4), np.int64)})
        with pytest.raises(ValueError, match="dim 1 must be 4"):
            pool.run({"a": a, "b": np.ones((1, 5), np.float32)})
        with pytest.raises(TypeError, match="an item is a dict"):
            pool.run_all([a])
        with pytest.raises(TypeError, match="numpy dtype complex64 has no ONNX element type"):
            pool.run({"a": a, "b": np.ones((1, 4), np.complex64)})


def test_bad_arguments_name_the_keyword(models):
    model = str(models / "add_mul.onnx")
    with pytest.raises(ValueError, match=r"^threads=100000: 1 worker would start 100000 threads on \d+ cores?: "
                                         r"more than this machine can serve .*; oversubscribe=True runs it anyway$"):
        onnxpool.Pool(model, threads=100000)
    with pytest.raises(ValueError, match="devices='tpu:0': unknown device 'tpu:0'"):
        onnxpool.Pool(model, devices="tpu:0")
    with pytest.raises(ValueError, match="policy='fast': unknown policy 'fast'"):
        onnxpool.Pool(model, policy="fast")
    with pytest.raises(ValueError, match="^batch=4: batchless.onnx: batch 4 needs a model"):
        onnxpool.Pool(str(models / "batchless.onnx"), batch=4)
    with pytest.raises(onnxpool.Error, match="model file not found"):
        onnxpool.Pool(str(models / "nope.onnx"))
    with pytest.raises(TypeError):
        onnxpool.Pool(model, 2)  # keywords only


def test_failures_are_item_errors(models):
    good, bad = np.array([3], np.int64), np.array([40], np.int64)  # 40 is out of the table's rows
    with onnxpool.Pool(str(models / "fails_sometimes.onnx"), workers=2) as pool:
        with pytest.raises(onnxpool.ItemError) as one:
            pool.run({"idx": bad})
        assert one.value.item == 0 and one.value.worker.startswith("cpu#") and "indices" in one.value.cause
        with pytest.raises(onnxpool.RunError) as many:
            pool.run_all([{"idx": good}, {"idx": bad}, {"idx": good}, {"idx": bad}])
        assert [f.item for f in many.value.failures] == [1, 3]
        assert many.value.items == 4
        assert str(many.value).startswith("2 of 4 items failed; first: item 1 on worker cpu#")
        np.testing.assert_array_equal(pool.run({"idx": good})["y"], [[12, 13, 14, 15]])  # the pool lives on


def test_a_closed_pool_says_so(models):
    pool = onnxpool.Pool(str(models / "add_mul.onnx"), workers=1)
    pool.close()
    with pytest.raises(onnxpool.Error, match="the pool is closed"):
        pool.run({"a": np.ones((1, 4), np.float32), "b": np.ones((1, 4), np.float32)})


def test_the_gil_is_released_while_items_run(models):
    """While one Python thread is inside run_all, the main thread runs Python (it reads the pool's
    stats): it sees some items done and some not. Were the GIL held for the call, it could only see
    none (before) or all (after)."""
    items = random_images(48)
    with onnxpool.Pool(str(models / "mobilenetv2.onnx"), workers=2, threads=1) as pool:
        finished = threading.Event()
        runner = threading.Thread(target=lambda: (pool.run_all(items), finished.set()))
        partial = set()
        runner.start()
        while not finished.is_set():
            done = sum(worker["items"] for worker in pool.stats())
            if 0 < done < len(items):
                partial.add(done)
        runner.join()
    assert len(partial) >= 2, "the main thread never ran while run_all was in flight"


def test_contiguous_inputs_are_read_in_place_when_the_item_runs(models):
    """No copy is made of a C-contiguous array of the input's dtype: an array changed after submit()
    but before its item runs is read as changed (which is why the docs say: do not modify it until
    the item is done). Five slow items ahead of it on the one worker keep it queued for a while."""
    rng = np.random.default_rng(9)
    ahead = [{"input": rng.standard_normal((1, 3, 224, 224), dtype=np.float32)} for _ in range(5)]
    x = rng.standard_normal((1, 3, 224, 224), dtype=np.float32)
    with onnxpool.Pool(str(models / "mobilenetv2.onnx"), workers=1, threads=1) as pool:
        zeros = pool.run({"input": np.zeros_like(x)})["output"]
        original = pool.run({"input": x.copy()})["output"]
        queued = [pool.submit(item) for item in ahead]
        changed = pool.submit({"input": x})
        x[...] = 0  # the item has not run yet: five items are ahead of it
        got = changed.result(timeout=60)["output"]
        for future in queued:
            future.result(timeout=60)
    np.testing.assert_array_equal(got, zeros)
    assert not np.array_equal(original, zeros)


def test_python_threads_calling_run_are_inside_it_at_once(models):
    """Four threads each call pool.run on one worker: while the worker runs one item, the others wait
    inside run() with the GIL released, so the main thread sees several runs in flight at once. Were
    the GIL held for a run, one thread at a time could be inside run() (in_flight at most 1)."""
    items = random_images(4, seed=2)
    with onnxpool.Pool(str(models / "mobilenetv2.onnx"), workers=1, threads=1) as pool:
        barrier = threading.Barrier(5)
        results = [None] * 4

        def call(k):
            barrier.wait()
            results[k] = pool.run(items[k])

        threads = [threading.Thread(target=call, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        barrier.wait()
        most = 0
        while any(thread.is_alive() for thread in threads):
            most = max(most, pool.in_flight)
        for thread in threads:
            thread.join()
        assert pool.in_flight == 0
        expected = pool.run_all(items)
    assert most >= 2, f"at most {most} run() in flight at once"
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got["output"], want["output"])
