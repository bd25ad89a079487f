#!/usr/bin/env bash
# Set-up (packages, ONNX Runtime) and an incremental build of build/ with tests, tools and models.
# Used by scripts/run.sh and scripts/test.sh; prints nothing but progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
ort_root=$(scripts/setup.sh "$@" | tail -n 1)
jobs=${ONNXPOOL_JOBS:-$(nproc)}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DONNXRUNTIME_ROOT="$ort_root" >&2
fi
cmake --build build -j "$jobs" >&2
