"""submit's futures, map's bounded window, run_array over arrays and memory-mapped files, pickling."""
import asyncio
import multiprocessing
import pickle

import numpy as np
import pytest

import onnxpool


def add_mul_items(count: int) -> list:
    rng = np.random.default_rng(7)
    return [{"a": rng.standard_normal((1, 4), dtype=np.float32), "b": rng.standard_normal((1, 4), dtype=np.float32)}
            for _ in range(count)]


def test_submit_gives_futures_that_asyncio_can_await(models):
    items = add_mul_items(20)
    with onnxpool.Pool(str(models / "add_mul.onnx"), workers=2) as pool:
        futures = [pool.submit(item) for item in items]
        results = [f.result(timeout=60) for f in futures]

        async def awaited():
            return await asyncio.wrap_future(pool.submit(items[3]))

        from_asyncio = asyncio.run(awaited())
    for item, result in zip(items, results):
        np.testing.assert_array_equal(result["sum"], item["a"] + item["b"])
    np.testing.assert_array_equal(from_asyncio["prod"], items[3]["a"] * items[3]["b"])


def test_a_failing_submit_sets_the_item_error(models):
    with onnxpool.Pool(str(models / "fails_sometimes.onnx"), workers=1) as pool:
        future = pool.submit({"idx": np.array([40], np.int64)})
        with pytest.raises(onnxpool.ItemError) as raised:
            future.result(timeout=60)
    assert raised.value.worker == "cpu#0" and "indices" in raised.value.cause


def test_map_keeps_order_and_reads_at_most_a_window_ahead(models):
    items = add_mul_items(200)
    pulled = 0

    def generator():
        nonlocal pulled
        for item in items:
            pulled += 1
            yield item

    window = 5
    received = 0
    with onnxpool.Pool(str(models / "add_mul.onnx"), workers=2) as pool:
        for item, result in zip(items, pool.map(generator(), window=window)):
            received += 1
            assert pulled <= received + window, f"{pulled} items read for {received} results"
            np.testing.assert_array_equal(result["sum"], item["a"] + item["b"])
    assert received == 200


def test_map_names_the_failed_items_position(models):
    idx = [np.array([i], np.int64) for i in (1, 2, 40, 3)]
    with onnxpool.Pool(str(models / "fails_sometimes.onnx"), workers=2) as pool:
        results = pool.map({"idx": i} for i in idx)
        assert next(results)["y"][0, 0] == 4.0
        assert next(results)["y"][0, 0] == 8.0
        with pytest.raises(onnxpool.ItemError) as raised:
            next(results)
    assert raised.value.item == 2 and str(raised.value).startswith("item 2 on worker cpu#")


def test_run_array_stacks_outputs_equal_to_item_by_item_runs(models, tmp_path):
    rng = np.random.default_rng(11)
    images = rng.standard_normal((10, 3, 224, 224), dtype=np.float32)
    np.save(tmp_path / "images.npy", images)
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r")
    with onnxpool.Pool(str(models / "mobilenetv2.onnx"), workers=2, threads=1) as pool:
        expected = np.concatenate([pool.run({"input": images[i:i + 1]})["output"] for i in range(10)])
        stacked = pool.run_array({"input": images})
        from_file = pool.run_array({"input": mapped}, window=3)
    assert stacked["output"].shape == (10, 1000)
    np.testing.assert_array_equal(stacked["output"], expected)
    np.testing.assert_array_equal(from_file["output"], expected)


def test_run_array_without_a_batch_dim_takes_rows(models):
    x = np.arange(24, dtype=np.float32).reshape(3, 1, 8)  # batchless.onnx: x float32[1,8], y = x * 2
    with onnxpool.Pool(str(models / "batchless.onnx"), workers=1) as pool:
        out = pool.run_array({"x": x})
    np.testing.assert_array_equal(out["y"], x * 2)


def test_run_array_keeps_good_rows_and_names_failures(models):
    idx = np.array([1, 40, 2, 50, 3], np.int64)
    with onnxpool.Pool(str(models / "fails_sometimes.onnx"), workers=2) as pool:
        with pytest.raises(onnxpool.RunError) as raised:
            pool.run_array({"idx": idx})
        outputs, failures = pool.run_array({"idx": idx}, errors="keep")
        with pytest.raises(ValueError, match="first dims must all give the item count"):
            pool.run_array({"idx": np.array(3, np.int64)})
        with pytest.raises(ValueError, match="errors='ignore'"):
            pool.run_array({"idx": idx}, errors="ignore")
    assert [f.item for f in raised.value.failures] == [1, 3]
    assert [f.item for f in failures] == [1, 3]
    table = np.arange(40, dtype=np.float32).reshape(10, 4)
    for good in (0, 2, 4):
        np.testing.assert_array_equal(outputs["y"][good], table[idx[good]])
        np.testing.assert_array_equal(raised.value.outputs["y"][good], table[idx[good]])
    np.testing.assert_array_equal(outputs["y"][[1, 3]], np.zeros((2, 4), np.float32))


def test_a_pool_pickles_as_its_model_and_options(models):
    pool = onnxpool.Pool(str(models / "add_mul.onnx"), workers=2, policy="static")
    copy = pickle.loads(pickle.dumps(pool))
    assert "not started" in repr(copy) and copy.model == pool.model
    item = add_mul_items(1)[0]
    np.testing.assert_array_equal(copy.run(item)["sum"], pool.run(item)["sum"])
    assert len(copy) == 2
    pool.close()
    copy.close()
    with pytest.raises(onnxpool.Error, match="closed"):
        copy.run(item)


def _run_in_child(pool, item):
    return pool.run(item)["sum"]


def test_a_pool_crosses_to_a_spawned_process(models):
    pool = onnxpool.Pool(str(models / "add_mul.onnx"), workers=1)
    item = add_mul_items(1)[0]
    with multiprocessing.get_context("spawn").Pool(1) as processes:
        got = processes.apply(_run_in_child, (pool, item))
    np.testing.assert_array_equal(got, item["a"] + item["b"])
    pool.close()


def test_dask_maps_run_array_over_an_arrays_blocks(models):
    """A Dask LocalCluster of two worker processes: the pool is pickled to each, which makes its own
    sessions, and run_array runs every block; the result equals one process's."""
    da = pytest.importorskip("dask.array", reason="Debian's python3-distributed is not installed")
    distributed = pytest.importorskip("distributed", reason="Debian's python3-distributed is not installed")
    rng = np.random.default_rng(5)
    a = rng.standard_normal((40, 4), dtype=np.float32)
    pool = onnxpool.Pool(str(models / "add_mul.onnx"), workers=1)

    def block_sum(block):
        return pool.run_array({"a": block, "b": block})["sum"]

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            as cluster, distributed.Client(cluster):
        result = da.from_array(a, chunks=(10, 4)).map_blocks(block_sum, dtype=np.float32).compute()
    np.testing.assert_array_equal(result, a + a)
    pool.close()
