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
    ("MobileNetV2 W=4: pool / sequence", ratios("mobilenetv2_w4", "pool", "sequence")),
    ("ResNet18 W=4: parallel / sequence", ratios("resnet18_w4", "parallel", "sequence")),
    ("ResNet18 W=4: pool / sequence", ratios("resnet18_w4", "pool", "sequence")),
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
    bare = next((v for k, v in rows.items() if "BareSessionRun" in k), None)
    for label, key in [("1 worker, batch 1", "PoolRunAll/1/1"), ("2 workers, batch 1", "PoolRunAll/2/1"),
                       ("1 worker, batch 8", "PoolRunAll/1/8"), ("2 workers, batch 8", "PoolRunAll/2/8")]:
        pool = next((v for k, v in rows.items() if key in k), None)
        if bare and pool:
            lines.append(f"- pool ({label}) / bare Session::Run loop: {pool[0] / bare[0]:.2f}x items/s, "
                         f"{pool[1] - bare[1]:+.2f} us/item (targets: >= 0.9x, <= 5 us)")
except (OSError, KeyError, ValueError) as e:
    lines.append(f"(no dispatch results: {e})")

lines += ["", "## Peak RSS (VmHWM after creating W workers and running 4W items; `onnxpool bench MODEL --memory --workers W`)", "",
          "```", (out / "rss.txt").read_text().rstrip(), "```", ""]
rss = {}
for line in (out / "rss.txt").read_text().splitlines():
    m = re.match(r"(\S+) peak_rss_mib=([\d.]+) .*workers=(\d+) shared_weights=(\w+)", line)
    if m:
        rss.setdefault((m.group(1), int(m.group(3)), m.group(4)), []).append(float(m.group(2)))
for model in ["mobilenetv2", "resnet18"]:
    one, four = rss.get((model, 1, "yes")), rss.get((model, 4, "yes"))
    if one and four:
        ratio = statistics.median(four) / statistics.median(one)
        lines.append(f"- {model}: W=4 / W=1 peak RSS (medians of {len(four)} runs: {statistics.median(four):.1f} / "
                     f"{statistics.median(one):.1f} MiB) = {ratio:.2f}x (target <= 1.5x: "
                     f"{'met' if ratio <= 1.5 else '**not met**'})")

lines += ["", "## Grid (`onnxpool bench build/models/mobilenetv2.onnx --grid workers=1,2 threads=1,2 batch=1,4 --items 32 --best`)", "",
          "```", (out / "grid_mobilenetv2.txt").read_text().rstrip(), "```", ""]
lines += ["## Reading the targets (with the numbers above)", "",
          "- **pool vs the tutorial's parallel at W=4** is not met here, and cannot be on this machine: in C++ "
          "(ONNX Runtime 1.29) the tutorial's parallel is not slower than sequence as it was in Python, it "
          "already reaches 1.5-1.8x sequence at W=4 (context above), and two cores cap any strategy at about "
          "2x a 2-thread sequence (pool at W=2 is at 1.8-1.9x). 1.4x over parallel would need 2.2-2.5x "
          "sequence. Where the tutorial's flaw costs more (many cores, each default session spinning one "
          "pinned thread per core), the gap should open; that needs a bigger machine to show.",
          "- **Dispatch overhead, items/s at batch 1** is not met: one worker taking items one at a time from "
          "another thread costs ~2-3 us per item more than a bare Session::Run loop on the caller's thread "
          "(within the 5 us target), and a trivial model's Run is ~1.5 us, so the ratio is ~0.4x. The hand-off "
          "is a queue lock and the worker's own allocation of each output tensor; perf shows the rest in the "
          "hypervisor's interrupt enabling (wake-ups) and malloc. Taking 8 items per hand-off "
          "(`--batch 8`) gives the bare loop's rate with one worker and more with two (table above).",
          "- **Ratios are medians of 5 runs measured side by side on a 2-core VM**: check the load in "
          "machine.txt; a busy second core pulls every parallel strategy down to sequence.", ""]
# Issue 10: the automatic (adaptive) pool at every N, and the latency of a trickle of single items.
for name, title in [("sweep_ratios.txt", "the automatic pool / the best other strategy at every N of the default sweep"),
                    ("trickle.txt", "p50 latency of single items arriving with gaps, against one default session")]:
    path = out / "adaptive" / name
    if path.exists():
        lines += [f"## Adaptive pool: {title} (`bench/adaptive/{name.replace('.txt', '.sh')}`)", "",
                  "```", path.read_text().rstrip(), "```", ""]
(out / "SUMMARY.md").write_text("\n".join(lines) + "\n")
