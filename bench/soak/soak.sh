#!/usr/bin/env bash
# The soak of issue 13 (a benchmark, not a CI test): `run` of the small two-input model add_mul over
# 10,000,000 random items with stacked outputs, sampled once a second by soak_sample.py: RSS through the
# run (flat), file descriptors and threads at the start and the end (no leak), and the items/s of the
# first tenth of the items against the last tenth's (no slow-down).
#
#   bench/soak/soak.sh [ITEMS]      (default 10000000; the outputs, 320 MB, go to a scratch folder)
#
# Writes bench/results/soak/soak.json (every sample) and soak.txt (the table). Run it on a quiet
# machine: nothing else compiling or measuring.
set -euo pipefail
cd "$(dirname "$0")/../.."
items=${1:-10000000}
CLI=build/bin/onnxpool
[ -x "$CLI" ] || scripts/build.sh >&2
OUT=bench/results/soak
mkdir -p "$OUT"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/onnxpool-soak.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

{
  echo "# bench/soak/soak.sh $items ($(date -u +%F), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
  echo "# $CLI run build/models/add_mul.onnx --random $items -q --output DIR"
  bench/soak/soak_sample.py "$OUT/soak.json" "$scratch/out" -- \
    "$CLI" run build/models/add_mul.onnx --random "$items" -q --output "$scratch/out"
  ls -l "$scratch/out" | sed 's/^/# /'
} | tee "$OUT/soak.txt.tmp"
mv "$OUT/soak.txt.tmp" "$OUT/soak.txt"
