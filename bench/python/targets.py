#!/usr/bin/python3
"""The Python package's targets (issue 11), measured side by side in one run, medians of --repeat:

  1. pool.run_all over 64 MobileNetV2 items vs the C++ CLI (`onnxpool run --data` over the same
     images saved as .npy) with the same configuration (2 workers x 1 thread): items/s, ratio;
  2. 4 Python threads each calling pool.run in a loop (the tutorial's pattern) vs run_all on the same
     pool: items/s, ratio;
  3. per-item cost of pool.run from Python on trivial.onnx, one at a time, vs the C++ Pool::submit +
     get loop (onnxpool_dispatch_bench BM_PoolSubmitGet): microseconds per item, difference;
  4. pool.map over a generator of 1,000,000 small items (trivial.onnx): RSS at 10%, 50% and 90%.

    PYTHONPATH=build/python python3 bench/python/targets.py [--repeat 5] [--out bench/results/python]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import onnxpool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
MODELS = os.path.join(BUILD, "models")
CLI = os.path.join(BUILD, "bin", "onnxpool")


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cli_items_per_s(model: str, images: np.ndarray) -> float:
    """The CLI over the same images from a .npy (memory-mapped rows, as run_all's are in memory)."""
    with tempfile.TemporaryDirectory() as folder:
        data, summary = os.path.join(folder, "images.npy"), os.path.join(folder, "run.json")
        np.save(data, images)
        subprocess.run([CLI, "run", model, "--data", f"input={data}", "--workers", "2", "--threads", "1", "-q",
                        "--json", summary], check=True)
        with open(summary) as f:
            return json.load(f)["items_per_s"]


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def threads_run(pool, items, threads: int) -> None:
    def work(k):
        for i in range(k, len(items), threads):
            pool.run(items[i])

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def cpp_submit_us() -> float:
    bench = os.path.join(BUILD, "bench", "onnxpool_dispatch_bench")
    if not os.path.exists(bench):
        bench = os.path.join(BUILD, "bin", "onnxpool_dispatch_bench")
    out = subprocess.run([bench, "--benchmark_filter=BM_PoolSubmitGet", "--benchmark_format=json",
                          "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)["benchmarks"]
    return next(r["us_per_item"] for r in rows if r.get("aggregate_name") == "median")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "python"))
    args = parser.parse_args()
    results = {}
    mobilenet = os.path.join(MODELS, "mobilenetv2.onnx")
    rng = np.random.default_rng(0)
    images = [{"input": rng.standard_normal((1, 3, 224, 224), dtype=np.float32)} for _ in range(64)]

    # 1 and 2: the same pool for run_all and for the threads; the CLI alternates with them.
    python_rates, cli_rates, thread_rates = [], [], []
    with onnxpool.Pool(mobilenet, workers=2, threads=1) as pool:
        pool.run_all(images)  # warm-up
        for _ in range(args.repeat):
            python_rates.append(64 / timed(lambda: pool.run_all(images)))
            cli_rates.append(cli_items_per_s(mobilenet, np.concatenate([i["input"] for i in images])))
            thread_rates.append(64 / timed(lambda: threads_run(pool, images, 4)))
    py, cli, thr = (statistics.median(r) for r in (python_rates, cli_rates, thread_rates))
    results["run_all_vs_cli"] = {"python_items_per_s": py, "cli_items_per_s": cli, "ratio": py / cli,
                                 "python_runs": python_rates, "cli_runs": cli_rates}
    results["threads_vs_run_all"] = {"threads": 4, "items_per_s": thr, "run_all_items_per_s": py,
                                     "ratio": thr / py, "runs": thread_rates}
    print(f"1. MobileNetV2 64 items, 2x1: Python run_all {py:.1f} items/s, CLI {cli:.1f}: {py / cli:.3f}x "
          f"(target >= 0.95)")
    print(f"2. 4 Python threads calling run: {thr:.1f} items/s, {thr / py:.3f}x run_all (target >= 0.9)")

    # 3: one item at a time on the trivial model.
    trivial = os.path.join(MODELS, "trivial.onnx")
    info = onnxpool.inspect(trivial)
    item = {v.name: np.ones([d if isinstance(d, int) else 1 for d in v.shape], v.dtype) for v in info.inputs}
    per_item = []
    with onnxpool.Pool(trivial, workers=1, threads=1) as pool:
        for _ in range(2000):
            pool.run(item)
        for _ in range(args.repeat):
            count = 20000
            per_item.append(timed(lambda: [pool.run(item) for _ in range(count)]) / count * 1e6)
    python_us = statistics.median(per_item)
    cpp_us = cpp_submit_us()
    results["per_item_overhead"] = {"python_run_us": python_us, "cpp_submit_get_us": cpp_us,
                                    "difference_us": python_us - cpp_us, "runs": per_item}
    print(f"3. trivial.onnx one at a time: Python pool.run {python_us:.2f} us/item, C++ submit+get "
          f"{cpp_us:.2f} us: +{python_us - cpp_us:.2f} us (target <= 10)")

    # 4: a million small items through map, RSS sampled as it goes.
    count, samples = 1_000_000, {}
    with onnxpool.Pool(trivial, workers=2, threads=1) as pool:
        start = time.perf_counter()
        for i, _ in enumerate(pool.map(({k: v for k, v in item.items()} for _ in range(count)))):
            if i in (count // 10, count // 2, count * 9 // 10):
                samples[f"{round(100 * i / count)}%"] = rss_mib()
        seconds = time.perf_counter() - start
    results["map_rss"] = {"items": count, "seconds": seconds, "rss_mib": samples}
    print(f"4. map over {count} items in {seconds:.1f} s: RSS " +
          ", ".join(f"{k} {v:.1f} MiB" for k, v in samples.items()))

    os.makedirs(args.out, exist_ok=True)
    target = os.path.join(args.out, "targets.json")
    with open(target + ".tmp", "w") as f:
        json.dump(results, f, indent=2)
    os.replace(target + ".tmp", target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
