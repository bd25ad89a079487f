#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, makes the models, and runs the main job:
# `onnxpool bench` on the generated MobileNetV2 with the tutorial's parameters (sequence vs parallel vs
# onnxpool's pool over growing N), writing CSV, JSON and plots into out/.
# Extra arguments go to `onnxpool bench` (e.g. --strategies sequence,pool --max-n 5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p out
exec build/bin/onnxpool bench build/models/mobilenetv2.onnx \
  --csv out/bench_mobilenetv2.csv --json out/bench_mobilenetv2.json --plot out/bench_mobilenetv2 "$@"
