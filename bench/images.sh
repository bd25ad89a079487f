#!/usr/bin/env bash
# `run --images` against `run --data` on the same images, already decoded and preprocessed, on MobileNetV2:
#   bench/images.sh            (from the repository root, after a build; ~1.5 minutes on 2 cores)
# 1. PIL writes N (default 200) JPEGs of 500x375 pixels, quality 90 (ImageNet's typical size), into $WORK
# 2. `run image_identity.onnx --images` stacks exactly the tensors `run` feeds a model: the pre-decoded .npy
# 3. RUNS (default 5) rounds, each running `run mobilenetv2.onnx --images DIR` and `--data input=X.npy`
#    side by side, with the default workers (one per core) and with one single-thread worker (a core left
#    for the calling thread's decoding); medians of items/s and of the summary's reading time
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
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

for r in $(seq 1 "$RUNS"); do
  for pool in default w1; do
    flags=()
    [ "$pool" = w1 ] && flags=(-w 1 -t 1)
    "$CLI" run "$MODELS/mobilenetv2.onnx" --images "$WORK/images" "${flags[@]}" -q --json "$WORK/json/images_${pool}_$r.json"
    "$CLI" run "$MODELS/mobilenetv2.onnx" --data "input=$WORK/pre/pixels.npy" "${flags[@]}" -q \
      --json "$WORK/json/data_${pool}_$r.json"
  done
done

{
  echo "date: $(date -u +%FT%TZ); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "command: bench/images.sh (N=$N, RUNS=$RUNS); load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
  "$PY" - "$WORK" "$RUNS" <<'PYEOF'
import glob, json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
files = glob.glob(os.path.join(work, "images", "*.jpg"))
size = sum(os.path.getsize(f) for f in files) / len(files) / 1000
print(f"{len(files)} JPEGs of 500x375 pixels, quality 90, {size:.0f} KB on average; "
      f"the pre-decoded array: {os.path.getsize(os.path.join(work, 'pre', 'pixels.npy')) / 1e6:.0f} MB float32")
for pool, what in (("default", "default workers"), ("w1", "-w 1 -t 1: one core left to the calling thread")):
    print(f"{what}:")
    rows = {}
    for kind in ("images", "data"):
        rs = [json.load(open(os.path.join(work, "json", f"{kind}_{pool}_{r}.json"))) for r in range(1, runs + 1)]
        rows[kind] = rs
        ips = [x["items_per_s"] for x in rs]
        read = [x["time"]["reading"] for x in rs]
        busy = [x["workers_busy"] for x in rs]
        print(f"  run --{kind:<7} items/s {' '.join(f'{v:6.1f}' for v in ips)}  median {statistics.median(ips):6.1f};"
              f" reading {statistics.median(read):.3f} s, workers busy {100 * statistics.median(busy):.0f}%"
              f" ({len(rs[0]['workers'])} workers)")
    ratios = [a["items_per_s"] / b["items_per_s"] for a, b in zip(rows["images"], rows["data"])]
    print(f"  images / data  {' '.join(f'{v:6.2f}' for v in ratios)}  median {statistics.median(ratios):6.2f}")
PYEOF
  "$BUILD/bin/onnxpool_image_bench" "$WORK/images" --repeat 5
} | tee "$OUT"
