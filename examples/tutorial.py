#!/usr/bin/python3
"""The ONNX Runtime tutorial "Multithreading with onnxruntime", rerun from Python with onnxpool.

The tutorial timed, for N images per thread and W threads:
  - sequence: one session running the W*N images one after another;
  - parallel: W Python threads (its MyThread), each with its own session and a fixed share of N;
and found `parallel` no faster on CPU. This script reruns both (each session an onnxpool.Pool of one
worker at ONNX Runtime's default width, as the tutorial's InferenceSession), then the onnxpool way:
  - pool: one Pool (workers sized to the machine), pool.run_all(images);
  - map: the same pool streaming the images, pool.map(images).
It prints the table, writes the tutorial's CSV columns (n_imgs, maxN, stepN, repN, batch_size,
n_threads, n_imgs_<strategy>, time_<strategy>, then imgs_per_s_<strategy>) and, when matplotlib is
installed, the tutorial's plot of the time per image against N.

    PYTHONPATH=build/python python3 examples/tutorial.py [--model build/models/mobilenetv2.onnx]
        [--threads 2] [--maxN 21] [--stepN 2] [--repN 4] [--csv tutorial.csv] [--plot tutorial.png]
"""
import argparse
import csv
import os
import statistics
import sys
import threading
import time

import numpy as np

import onnxpool


def sequence(pool, images):
    return [pool.run(image) for image in images]


def parallel(pools, images):
    """The tutorial's MyThread: thread k runs images k, k+W, ... on its own session."""
    results = [None] * len(images)

    def work(k):
        for i in range(k, len(images), len(pools)):
            results[i] = pools[k].run(images[i])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(pools))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def timed(run, images, repeat):
    """The mean seconds of `repeat` runs after one discarded warm-up (the tutorial's repN), and the
    results of the last."""
    run(images)
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        results = run(images)
        seconds.append(time.perf_counter() - start)
    return statistics.mean(seconds), results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=os.path.join("build", "models", "mobilenetv2.onnx"))
    parser.add_argument("--threads", type=int, default=2, help="W: the tutorial's threads")
    parser.add_argument("--maxN", type=int, default=21)
    parser.add_argument("--stepN", type=int, default=2)
    parser.add_argument("--repN", type=int, default=4)
    parser.add_argument("--csv", default="tutorial.csv")
    parser.add_argument("--plot", default="tutorial.png")
    args = parser.parse_args(argv)

    info = onnxpool.inspect(args.model)
    spec = info.inputs[0]
    shape = [1 if not isinstance(d, int) else d for d in spec.shape]
    rng = np.random.default_rng(0)
    images = [{spec.name: rng.standard_normal(shape).astype(spec.dtype)}
              for _ in range(args.maxN * args.threads)]

    names = ["sequence", "parallel", "pool", "map"]
    rows = []
    with onnxpool.Pool(args.model, workers=1) as single, \
            onnxpool.Pool(args.model) as pool:
        sessions = [onnxpool.Pool(args.model, workers=1, oversubscribe=True) for _ in range(args.threads)]
        try:
            runs = {"sequence": lambda items: sequence(single, items),
                    "parallel": lambda items: parallel(sessions, items),
                    "pool": pool.run_all,
                    "map": lambda items: list(pool.map(items))}
            print(f"{args.model}: W={args.threads} threads, {len(pool)} pool workers; seconds per run "
                  f"(mean of {args.repN}) and images/s")
            print(f"{'N':>3} {'imgs':>5} " + " ".join(f"{name:>16}" for name in names))
            for n in range(1, args.maxN + 1, args.stepN):
                batch = images[:n * args.threads]
                row = {"n_imgs": len(batch), "maxN": args.maxN, "stepN": args.stepN, "repN": args.repN,
                       "batch_size": n, "n_threads": args.threads}
                reference = None
                for name in names:
                    seconds, results = timed(runs[name], batch, args.repN)
                    first = [r[next(iter(r))] for r in results]
                    if reference is None:
                        reference = first
                    else:  # every strategy computes what one session does
                        for got, want in zip(first, reference):
                            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
                    row[f"n_imgs_{name}"] = len(results)
                    row[f"time_{name}"] = seconds
                for name in names:
                    row[f"imgs_per_s_{name}"] = len(batch) / row[f"time_{name}"]
                rows.append(row)
                print(f"{n:>3} {len(batch):>5} " + " ".join(
                    f"{row[f'time_{name}']:>7.4f}s {row[f'imgs_per_s_{name}']:>6.1f}/s" for name in names))
        finally:
            for session in sessions:
                session.close()

    columns = list(rows[0])
    tmp = f"{args.csv}.tmp{os.getpid()}"
    with open(tmp, "w", newline="") as f:  # complete or not at all
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, args.csv)
    print(f"wrote {args.csv}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed (apt-get install python3-matplotlib)")
        return 0
    figure, axes = plt.subplots(figsize=(9, 5.6))
    for name in names:
        axes.plot([r["batch_size"] for r in rows], [r[f"time_{name}"] / r["batch_size"] for r in rows],
                  marker="o", label=name)
    axes.set_xlabel("N (images per thread)")
    axes.set_ylabel("seconds per N")
    axes.set_title(f"{os.path.basename(args.model)}, W={args.threads}")
    axes.legend()
    tmp = f"{args.plot}.tmp{os.getpid()}.png"
    figure.savefig(tmp)
    os.replace(tmp, args.plot)
    print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
