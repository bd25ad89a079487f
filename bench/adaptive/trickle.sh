#!/usr/bin/env bash
# Issue 10's latency target: items arriving one at a time with gaps, through the automatic pool (its
# run() of one item, and submit().get()) against one default session; medians over RUNS runs of each
# block's p50 (onnxpool_trickle_bench). Writes bench/results/adaptive/trickle.txt.
#   bench/adaptive/trickle.sh            RUNS=5 ITEMS=60 GAPS="20 2"
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/bin/onnxpool_trickle_bench
runs=${RUNS:-5}
items=${ITEMS:-60}
gaps=${GAPS:-"20 2"}
out=bench/results/adaptive
mkdir -p "$out"
{
  echo "# bench/adaptive/trickle.sh: RUNS=$runs ITEMS=$items GAPS=\"$gaps\" ($(nproc) CPUs, $(date -u +%F))"
  for gap in $gaps; do
    for model in mobilenetv2 resnet18 gpt2_tiny; do
      extra=()
      [ "$model" = gpt2_tiny ] && extra=(--dim batch=1 --dim seq=32)
      echo
      "$bin" "build/models/$model.onnx" --items "$items" --gap-ms "$gap" --runs "$runs" "${extra[@]}"
    done
  done
} | tee "$out/trickle.txt"
