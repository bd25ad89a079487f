#!/usr/bin/env bash
# `run --images` against `run --data` on the same images, already decoded and preprocessed, on MobileNetV2:
#   bench/images.sh            (from the repository root, after a build; ~2 minutes on 2 cores)
# 1. PIL writes N (default 200) JPEGs of 500x375 pixels, quality 90 (ImageNet's typical size), into $WORK
# 2. `run image_identity.onnx --images` stacks exactly the tensors `run` feeds a model: the pre-decoded .npy
# 3. RUNS (default 5) rounds, each running `run mobilenetv2.onnx --images DIR` and `--data input=X.npy`
#    side by side (default workers); medians of items/s and of the summary's reading time
# 4. onnxpool_image_bench: reading, decoding and preprocessing per image, on one thread
# Writes bench/results/images_mobilenetv2.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
N=${N:-200}
WORK=${WORK:-/tmp/onnxpool-images-bench}
CLI=$BUILD/bin/onnxpool
MODELS=$BUILD/models
OUT=bench/results/images_mobilenetv2.txt
PY=/usr/bin/python3

ninja -C "$BUILD" onnxpool_cli onnxpool_image_bench models >/dev/null
rm -rf "$WORK" && mkdir -p "$WORK/images" "$WORK/json"
"$PY" - "$WORK/images" "$N" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
for i in range(n):
    # Photo-like: smooth random shapes (low-frequency noise, enlarged) plus grain.
    low = rng.uniform(0, 255, (12, 16, 3)).astype(np.uint8)
    img = np.asarray(Image.fromarray(low).resize((500, 375), Image.BICUBIC), np.float64)
    img += rng.normal(0, 6, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(f"{out}/img_{i:04d}.jpg", quality=90)
PYEOF
"$CLI" run "$MODELS/image_identity.onnx" --images "$WORK/images" -q -o "$WORK/pre"

for r in $(seq 1 "$RUNS"); do
  "$CLI" run "$MODELS/mobilenetv2.onnx" --images "$WORK/images" -q --json "$WORK/json/images_$r.json"
  "$CLI" run "$MODELS/mobilenetv2.onnx" --data "input=$WORK/pre/pixels.npy" -q --json "$WORK/json/data_$r.json"
done

{
  echo "date: $(date -u +%FT%TZ); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "command: bench/images.sh (N=$N, RUNS=$RUNS)"
  "$PY" - "$WORK" "$RUNS" <<'PYEOF'
import glob, json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
files = glob.glob(os.path.join(work, "images", "*.jpg"))
size = sum(os.path.getsize(f) for f in files) / len(files) / 1000
print(f"{len(files)} JPEGs of 500x375 pixels, quality 90, {size:.0f} KB on average; "
      f"the pre-decoded array: {os.path.getsize(os.path.join(work, 'pre', 'pixels.npy')) / 1e6:.0f} MB float32")
rows = {}
for kind in ("images", "data"):
    rs = [json.load(open(os.path.join(work, "json", f"{kind}_{r}.json"))) for r in range(1, runs + 1)]
    rows[kind] = rs
    ips = [x["items_per_s"] for x in rs]
    read = [x["time"]["reading"] for x in rs]
    busy = [x["workers_busy"] for x in rs]
    print(f"run --{kind:<7} items/s {' '.join(f'{v:7.1f}' for v in ips)}   median {statistics.median(ips):7.1f};"
          f" reading {statistics.median(read):.3f} s, workers busy {100 * statistics.median(busy):.0f}%"
          f" ({len(rs[0]['workers'])} workers)")
ratios = [a["items_per_s"] / b["items_per_s"] for a, b in zip(rows["images"], rows["data"])]
print(f"images / data: {' '.join(f'{v:.2f}' for v in ratios)}   median {statistics.median(ratios):.2f}")
PYEOF
  "$BUILD/bin/onnxpool_image_bench" "$WORK/images" --repeat 5
} | tee "$OUT"
