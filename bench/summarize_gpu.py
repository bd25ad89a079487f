#!/usr/bin/env python3
"""Turns what scripts/gpu-check.sh recorded into GPU_SUMMARY.md: the figures issue 4 asks for and its
targets, met or not (stdlib only, so it runs wherever the results come back to).

    bench/summarize_gpu.py RESULTS_DIR      writes RESULTS_DIR/GPU_SUMMARY.md and prints it

Every figure is a ratio of two measurements made in the same gpu-check run; a missing file (a step that
failed, a model that was not there) becomes a line saying so rather than an error.
"""
import json
import pathlib
import re
import sys

MODELS = ("mobilenetv2", "resnet18")
RUN_LINE = re.compile(r"^(\d+) items in ([0-9.]+) s: ([0-9.]+) items/s")


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def strategy(result, name):
    """The strategy's report in a sweep JSON, or None."""
    if not result:
        return None
    for s in result.get("strategies", []):
        if s.get("name") == name:
            return s
    return None


def throughput(result, name):
    s = strategy(result, name)
    return s.get("throughput_at_max_n") if s else None


def run_throughput(path):
    """items/s from the first line of an `onnxpool run` summary, or None."""
    try:
        first = path.read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    match = RUN_LINE.match(first)
    return float(match.group(3)) if match else None


def ratio(a, b):
    return a / b if a and b else None


def fmt(value, digits=1, suffix=""):
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def verdict(value, target):
    if value is None:
        return "not measured"
    return "met" if value >= target else "not met"


def shares(s):
    """'cpu#0 (cpu) 12, cuda0#0 (cuda:0) 52' for a strategy's workers."""
    if not s or not s.get("workers_at_max_n"):
        return ""
    parts = []
    for w in s["workers_at_max_n"]:
        name = w["name"].split(":", 1)[-1]
        parts.append(f"{name} ({w['device']}) {w['items']}")
    return ", ".join(parts)


def summarize(results):
    lines = ["# GPU results", "", f"From `{results}` (scripts/gpu-check.sh); ratios are within one run.", ""]
    targets = []
    for model in MODELS:
        grid = load_json(results / f"bench_{model}_gpu_batch.json")
        cpu_gpu = load_json(results / f"bench_{model}_cpu_gpu.json")
        batched = load_json(results / f"bench_{model}_cpu_gpu_batched.json")
        one = run_throughput(results / f"run_{model}_gpu_1worker.txt")
        two = run_throughput(results / f"run_{model}_gpu_2workers.txt")
        if not (grid or cpu_gpu or batched or one or two):
            lines += [f"## {model}", "", "No results.", ""]
            targets.append((f"{model}: CPU+GPU pool vs GPU alone, batch 1", None, 1.0))
            if model == "mobilenetv2":
                targets.append(("mobilenetv2: 2 workers vs 1 on one GPU, batch 1", None, 1.2))
            continue
        lines += [f"## {model}", ""]
        lines += ["GPU alone (cuda:0):", "", "| batch | items/s | p50 ms | p99 ms |", "|---:|---:|---:|---:|"]
        gpu_at = {}
        for row in (grid or {}).get("configs", []):
            gpu_at[row["batch"]] = row["items_per_s"]
            lat = row.get("latency", {})
            lines.append(f"| {row['batch']} | {fmt(row['items_per_s'])} | {fmt(lat.get('p50', 0) * 1e3, 3)} | "
                         f"{fmt(lat.get('p99', 0) * 1e3, 3)} |")
        lines.append("")
        lines += ["The tutorial's CPU+GPU experiment (`--devices cpu,cuda:0`), at the largest N:", "",
                  "| strategy | items/s | vs seq_gpu | items per worker |", "|---|---:|---:|---|"]
        seq_gpu = throughput(cpu_gpu, "seq_gpu")
        for name in ("seq_cpu", "seq_gpu", "parallel", "pool"):
            s = strategy(cpu_gpu, name)
            value = s.get("throughput_at_max_n") if s else None
            lines.append(f"| {name} | {fmt(value)} | {fmt(ratio(value, seq_gpu), 2, 'x')} | {shares(s)} |")
        lines.append("")
        pool_vs_gpu = ratio(throughput(cpu_gpu, "pool"), seq_gpu)
        targets.append((f"{model}: CPU+GPU pool vs GPU alone, batch 1", pool_vs_gpu, 1.0))
        pool_batched = throughput(batched, "pool")
        gpu32 = gpu_at.get(32)
        lines.append(f"CPU beside a GPU stacking 32 (`cpu,cuda:0@32`): pool {fmt(pool_batched)} items/s, "
                     f"{fmt(ratio(pool_batched, gpu32), 2, 'x')} the GPU alone at batch 32 "
                     f"({shares(strategy(batched, 'pool'))}).")
        lines.append("")
        targets.append((f"{model}: CPU+GPU pool vs GPU alone, GPU batch 32", ratio(pool_batched, gpu32), 1.0))
        lines.append(f"Workers on one GPU, batch 1 (`run`): 1 worker {fmt(one)} items/s, 2 workers {fmt(two)} "
                     f"items/s: {fmt(ratio(two, one), 2, 'x')}.")
        lines.append("")
        if model == "mobilenetv2":
            targets.append(("mobilenetv2: 2 workers vs 1 on one GPU, batch 1", ratio(two, one), 1.2))
        multi = load_json(results / f"bench_{model}_multi_gpu.json")
        if multi:
            lines.append(f"All GPUs: parallel {fmt(ratio(throughput(multi, 'parallel'), throughput(multi, 'seq_gpu')), 2, 'x')}"
                         f", pool {fmt(ratio(throughput(multi, 'pool'), throughput(multi, 'seq_gpu')), 2, 'x')} "
                         "one GPU's seq_gpu.")
            lines.append("")
    cpu = load_json(results / "bench_mobilenetv2_cpu.json")
    cores = (cpu or {}).get("machine", {}).get("logical_cores")
    pool_vs_seq = ratio(throughput(cpu, "pool"), throughput(cpu, "sequence"))
    lines.append(f"CPU only, MobileNetV2 on {cores if cores else '?'} cores: pool "
                 f"{fmt(pool_vs_seq, 2, 'x')} sequence, parallel "
                 f"{fmt(ratio(throughput(cpu, 'parallel'), throughput(cpu, 'sequence')), 2, 'x')}.")
    lines.append("")
    targets.append(("mobilenetv2: pool vs sequence on the CPU cores", pool_vs_seq, 1.5))
    lines += ["## Targets (issue 4)", "", "| target | measured | needed | |", "|---|---:|---:|---|"]
    for name, value, needed in targets:
        lines.append(f"| {name} | {fmt(value, 2, 'x')} | {needed:.1f}x | {verdict(value, needed)} |")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    results = pathlib.Path(argv[1])
    if not results.is_dir():
        print(f"summarize_gpu: {results} is not a folder", file=sys.stderr)
        return 1
    text = summarize(results)
    (results / "GPU_SUMMARY.md").write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
