#!/usr/bin/env python3
"""Writes bench/results/SUMMARY.md from what bench/run_all.sh recorded (stdlib only)."""
import json
import pathlib
import re
import statistics
import sys

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results")


def load(path):
    return json.loads(path.read_text())


def throughput(result, name):
    for s in result["strategies"]:
        if s["name"] == name:
            return s["throughput_at_max_n"]
    return None


def ratios(pattern, num, den):
    values = []
    for path in sorted(out.glob(f"runs/{pattern}_*.json")):
        r = load(path)
        a, b = throughput(r, num), throughput(r, den)
        if a and b:
            values.append(a / b)
    return values


def best_ratios(pattern, nums, den):
    values = []
    for path in sorted(out.glob(f"runs/{pattern}_*.json")):
        r = load(path)
        a = max(throughput(r, n) or 0.0 for n in nums)
        b = throughput(r, den)
        if a and b:
            values.append(a / b)
    return values


def fmt(values):
    if not values:
        return "n/a"
    return f"{statistics.median(values):.2f}x (runs: {', '.join(f'{v:.2f}' for v in values)})"


lines = ["# onnxpool bench: recorded results", "",
         "Regenerate everything here with one command: `bench/run_all.sh` (from the repository root).", "",
         "```", (out / "machine.txt").read_text().strip(), "```", ""]

lines += ["## Default sweeps (the README's command)", ""]
for model in ["mobilenetv2", "resnet18"]:
    lines += [f"### {model}", "", f"`onnxpool bench build/models/{model}.onnx --csv {model}.csv --json {model}.json --plot {model}`", "",
              f"![{model}]({model}.png)", "", "```", (out / f"{model}.txt").read_text().rstrip(), "```", ""]

lines += ["## Targets (medians of per-run ratios; each run measures the strategies side by side)", "",
          "| target | measured | met |", "|---|---|---|"]
checks = [
    ("MobileNetV2, N=16, W=2: pool >= 1.10x sequence", ratios("mobilenetv2_w2", "pool", "sequence"), 1.10),
    ("ResNet18, N=16, W=2: best of pool/batched >= 1.05x sequence", best_ratios("resnet18_w2", ["pool", "batched"], "sequence"), 1.05),
    ("MobileNetV2, N=16, W=4: pool >= 1.4x parallel", ratios("mobilenetv2_w4", "pool", "parallel"), 1.4),
    ("ResNet18, N=16, W=4: pool >= 1.4x parallel", ratios("resnet18_w4", "pool", "parallel"), 1.4),
]
for label, values, goal in checks:
    met = "yes" if values and statistics.median(values) >= goal else "**no**"
    lines.append(f"| {label} | {fmt(values)} | {met} |")
lines += ["", "Context, same runs:", ""]
for label, values in [
    ("MobileNetV2 W=2: parallel / sequence", ratios("mobilenetv2_w2", "parallel", "sequence")),
    ("MobileNetV2 W=2: batched / sequence", ratios("mobilenetv2_w2", "batched", "sequence")),
    ("MobileNetV2 W=2: pinned pool / sequence", ratios("mobilenetv2_w2pin", "pool", "sequence")),
    ("ResNet18 W=2: pool / sequence", ratios("resnet18_w2", "pool", "sequence")),
    ("ResNet18 W=2: batched / sequence", ratios("resnet18_w2", "batched", "sequence")),
    ("ResNet18 W=2: pinned pool / sequence", ratios("resnet18_w2pin", "pool", "sequence")),
    ("MobileNetV2 W=4: parallel / sequence", ratios("mobilenetv2_w4", "parallel", "sequence")),
    ("ResNet18 W=4: parallel / sequence", ratios("resnet18_w4", "parallel", "sequence")),
]:
    lines.append(f"- {label}: {fmt(values)}")

lines += ["", "## Dispatch overhead (trivial.onnx, Google Benchmark, medians of 5 repetitions)", ""]
try:
    bench = load(out / "dispatch.json")
    rows = {}
    for b in bench["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows[b["run_name"]] = (b["items_per_s"], b["us_per_item"])
    lines += ["| benchmark | items/s | us/item |", "|---|---|---|"]
    for name, (rate, us) in rows.items():
        lines.append(f"| {name} | {rate:,.0f} | {us:.2f} |")
    worker = next((v for k, v in rows.items() if "BareWorkerRun" in k), None)
    pool = next((v for k, v in rows.items() if "PoolRunAll/1/1" in k), None)
    if worker and pool:
        lines += ["", f"Pool (1 worker x 1 thread) / bare Worker::run loop: {pool[0] / worker[0]:.2f}x items/s; "
                      f"overhead {pool[1] - worker[1]:.2f} us/item (targets: >= 0.9x, <= 5 us)."]
except (OSError, KeyError, ValueError) as e:
    lines.append(f"(no dispatch results: {e})")

lines += ["", "## Peak RSS (VmHWM after creating W workers and running 4W items; `onnxpool bench MODEL --memory --workers W`)", "",
          "```", (out / "rss.txt").read_text().rstrip(), "```", ""]
rss = {}
for line in (out / "rss.txt").read_text().splitlines():
    m = re.match(r"(\S+) peak_rss_mib=([\d.]+) .*workers=(\d+) shared_weights=(\w+)", line)
    if m:
        rss[(m.group(1), int(m.group(3)), m.group(4))] = float(m.group(2))
for model in ["mobilenetv2", "resnet18"]:
    one, four = rss.get((model, 1, "yes")), rss.get((model, 4, "yes"))
    if one and four:
        lines.append(f"- {model}: W=4 / W=1 peak RSS = {four / one:.2f}x (target <= 1.5x: {'met' if four / one <= 1.5 else '**not met**'})")

lines += ["", "## Grid (`onnxpool bench build/models/mobilenetv2.onnx --grid workers=1,2 threads=1,2 batch=1,4 --items 32 --best`)", "",
          "```", (out / "grid_mobilenetv2.txt").read_text().rstrip(), "```", ""]
lines += ["## Why targets are missed (read with the numbers above)", "",
          "- **Shared 2-core machine.** The per-run ratios are bimodal: in some runs pool and parallel reach ~2x "
          "sequence (the second core was free), in others all strategies tie (another process held a core: the "
          "machine is shared with other builds, see the load in machine.txt). A 2-thread default session gains "
          "nothing over 1 thread when only one core is really available, and neither do 2 workers. Medians of 5 "
          "runs then land near 1.0x. Re-run `bench/run_all.sh` on an idle machine before reading the ratios as "
          "properties of onnxpool.",
          "- **pool vs the tutorial's parallel at W=4.** On 2 cores the tutorial's flaw (each default session "
          "spinning 2 pinned threads) costs little once the CPU is already contended; the 1.4x seen by the "
          "tutorial needs more cores than sessions' threads can share.",
          "- **Dispatch overhead.** Pool::run_all hands items over one by one: per item a lock, a condition-variable "
          "wake-up of the worker and a promise whose future the caller waits on in order (a futex sleep/wake per "
          "item). With 2-4 us of ONNX Runtime work per trivial item this hand-off dominates; batch 8 (8 items per "
          "hand-off) brings it to the bare loop's order. Fix proposed to the scheduler's owner: complete run_all "
          "with one counter + one notification, and let a worker take a chunk of queued items when the queue is "
          "long.",
          "- **Peak RSS.** `--no-share-weights` changes nothing: the PrepackedWeightsContainer shares only "
          "pre-packed kernel buffers; each session still keeps its own copy of the initializers (~14 MB "
          "MobileNetV2, ~45 MB ResNet18) and its own activation arena, so RSS grows ~20 MB (MobileNetV2) and "
          "~70 MB (ResNet18) per worker. Meeting 1.5x needs the initializers loaded once and given to every "
          "session (SessionOptions::AddExternalInitializers / AddInitializer) in Worker.", ""]
(out / "SUMMARY.md").write_text("\n".join(lines) + "\n")
