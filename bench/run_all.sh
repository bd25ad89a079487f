#!/usr/bin/env bash
# THE one command that regenerates every recorded benchmark result in bench/results/:
#   bench/run_all.sh            (from the repository root; builds first)
# 1. the default sweep (the README's command) for MobileNetV2 and ResNet18: CSV, JSON, PNG, SVG, table
# 2. a grid of pool configurations with --best
# 3. peak RSS of W = 1, 2, 4 CPU workers (onnxpool bench --memory: VmHWM after creating the workers and
#    running a few items), with the workers sharing one copy of the weights and without (--no-share-weights)
# 4. the dispatch-overhead micro-benchmark (Google Benchmark, 5 repetitions, medians)
# 5. the targets' ratios, each from 5 runs in which the strategies are measured side by side (interleaved
#    per N in one process), medians of the per-run ratios
# 6. issue 10's yardstick (bench/adaptive/sweep_ratios.sh: the automatic pool against the best other
#    strategy at every N of the default sweep, W=2 and 4) and trickle latency (bench/adaptive/trickle.sh),
#    each with its own RUNS; skipped with ADAPTIVE=0 (they take about 40 minutes on 2 cores)
# then bench/summarize.py writes bench/results/SUMMARY.md. Takes about 6 minutes on 2 cores without 6.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
OUT=bench/results
CLI=$BUILD/bin/onnxpool
MODELS=$BUILD/models

cmake -S . -B "$BUILD" -G Ninja -DONNXPOOL_BUILD_BENCHMARKS=ON >/dev/null
ninja -C "$BUILD" -j2 onnxpool_cli onnxpool_dispatch_bench onnxpool_trickle_bench models >/dev/null
mkdir -p "$OUT" "$OUT/runs"
rm -f "$OUT"/runs/*.json

{ echo "date: $(date -u +%FT%TZ)"; echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; nproc; grep -m1 'model name' /proc/cpuinfo; } > "$OUT/machine.txt"

echo "== 1. default sweeps" >&2
for model in mobilenetv2 resnet18; do
  start=$(date +%s.%N)
  "$CLI" bench "$MODELS/$model.onnx" --csv "$OUT/$model.csv" --json "$OUT/$model.json" --plot "$OUT/$model" \
    > "$OUT/$model.txt"
  echo "$model default sweep wall seconds: $(echo "$(date +%s.%N) - $start" | bc)" >> "$OUT/machine.txt"
done

echo "== 2. grid" >&2
"$CLI" bench "$MODELS/mobilenetv2.onnx" --grid workers=1,2 threads=1,2 batch=1,4 --items 32 --best \
  --csv "$OUT/grid_mobilenetv2.csv" --json "$OUT/grid_mobilenetv2.json" > "$OUT/grid_mobilenetv2.txt"

echo "== 3. peak RSS, $RUNS runs each" >&2
: > "$OUT/rss.txt"
for model in mobilenetv2 resnet18; do
  for w in 1 2 4; do
    for i in $(seq 1 "$RUNS"); do
      echo "$model $("$CLI" bench "$MODELS/$model.onnx" --memory --workers "$w")" >> "$OUT/rss.txt"
    done
    echo "$model $("$CLI" bench "$MODELS/$model.onnx" --memory --workers "$w" --no-share-weights)" >> "$OUT/rss.txt"
  done
done

echo "== 4. dispatch overhead" >&2
"$BUILD/bin/onnxpool_dispatch_bench" --benchmark_repetitions="$RUNS" --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.5 --benchmark_out="$OUT/dispatch.json" --benchmark_out_format=json > "$OUT/dispatch.txt"

echo "== 5. ratios, $RUNS runs each" >&2
for i in $(seq 1 "$RUNS"); do
  for model in mobilenetv2 resnet18; do
    # W=2 (this machine's default), N = 1, 2, 16; the pool automatic, as `run` makes it
    "$CLI" bench "$MODELS/$model.onnx" -q --sessions 2 --max-n 9 --step 7 --repeat 4 \
      --strategies sequence,parallel,pool,batched --json "$OUT/runs/${model}_w2_$i.json" > /dev/null
    # 2 pinned workers against sequence (to choose the --pin default)
    "$CLI" bench "$MODELS/$model.onnx" -q --workers 2 --max-n 9 --step 7 --repeat 4 --pin \
      --strategies sequence,pool --json "$OUT/runs/${model}_w2pin_$i.json" > /dev/null
    # W=4, the tutorial's parallel against the automatic pool: N = 1, 4, 16
    "$CLI" bench "$MODELS/$model.onnx" -q --sessions 4 --max-n 5 --step 3 --repeat 4 \
      --strategies sequence,parallel,pool --json "$OUT/runs/${model}_w4_$i.json" > /dev/null
  done
done
if [ "${ADAPTIVE:-1}" != 0 ]; then
  echo "== 6. adaptive pool: sweep ratios and trickle latency" >&2
  bench/adaptive/sweep_ratios.sh > /dev/null
  bench/adaptive/trickle.sh > /dev/null
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

/usr/bin/python3 bench/summarize.py "$OUT"
echo "wrote $OUT/SUMMARY.md" >&2
