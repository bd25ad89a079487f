#!/usr/bin/env bash
# Issue 12's targets on this machine, side by side in one script, alternating, medians of REPS runs:
#   - 2 ranks x 1 core (mpirun -np 2, each rank's pool on its half of the cores) against 1 process x 2
#     workers, MobileNetV2 over ITEMS items of a memory-mapped .npy, stacked outputs written;
#   - the hand-out's cost per chunk over MPI, transport included (onnxpool_mpi_feed_bench), 1 and 3
#     ranks asking.
# Writes bench/results/mpi/ranks.txt. Needs the build (scripts/build.sh) with Open MPI.
#   bench/mpi/ranks.sh            REPS=5 ITEMS=2000
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/bin/onnxpool
model=build/models/mobilenetv2.onnx
reps=${REPS:-5}
items=${ITEMS:-2000}
work=${WORK:-/tmp/onnxpool-ranks-bench}
out=bench/results/mpi/ranks.txt
mpirun=(mpirun --allow-run-as-root --mca btl_vader_single_copy_mechanism none)
mkdir -p "$work" "$(dirname "$out")"

# The items: ITEMS images' worth of float32 [3,224,224], written once (about 1.2 GB for 2,000).
if [ ! -f "$work/input-$items.npy" ]; then
  /usr/bin/python3 - "$work/input-$items.npy" "$items" <<'PY'
import sys
import numpy as np
path, n = sys.argv[1], int(sys.argv[2])
a = np.lib.format.open_memmap(path + ".partial", mode="w+", dtype=np.float32, shape=(n, 3, 224, 224))
rng = np.random.default_rng(0)
for i in range(0, n, 100):
    a[i:i + 100] = rng.standard_normal((min(100, n - i), 3, 224, 224), dtype=np.float32)
a.flush()
del a
import os
os.rename(path + ".partial", path)
PY
fi
run=(run "$model" --data "input=$work/input-$items.npy" -q --overwrite)

wall() {  # seconds of the command, start-up included
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

: >"$work/rows"
for rep in $(seq 1 "$reps"); do
  one_wall=$(wall "$bin" "${run[@]}" --workers 2 --output "$work/one" --json "$work/one.json")
  many_wall=$(wall "${mpirun[@]}" -np 2 "$bin" "${run[@]}" --output "$work/many" --json "$work/many.json")
  cmp -s "$work/one/output.npy" "$work/many/output.npy" || { echo "outputs differ" >&2; exit 1; }
  /usr/bin/python3 - "$work/one.json" "$work/many.json" "$one_wall" "$many_wall" >>"$work/rows" <<'PY'
import json, sys
one, many = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(one["items_per_s"], many["items_per_s"], sys.argv[3], sys.argv[4],
      " ".join(str(r["items"]) for r in many["ranks"]))
PY
  echo "rep $rep: $(tail -n 1 "$work/rows")" >&2
done

{
  echo "# bench/mpi/ranks.sh ($(date -u +%Y-%m-%d), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
  echo "# MobileNetV2, $items items from a memory-mapped .npy, stacked outputs; medians of $reps runs, alternating"
  /usr/bin/python3 - "$work/rows" "$items" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
one = [float(r[0]) for r in rows]; many = [float(r[1]) for r in rows]
one_wall = [float(r[2]) for r in rows]; many_wall = [float(r[3]) for r in rows]
n = int(sys.argv[2])
m1, m2 = statistics.median(one), statistics.median(many)
w1, w2 = statistics.median(one_wall), statistics.median(many_wall)
print(f"1 process x 2 workers:   {m1:8.2f} items/s run, {w1:6.2f} s wall ({n / w1:7.2f} items/s with start-up)")
print(f"2 ranks x 1 core (mpirun): {m2:6.2f} items/s run, {w2:6.2f} s wall ({n / w2:7.2f} items/s with start-up)")
print(f"ratio ranks / process: {m2 / m1:.3f} (run), {w1 / w2:.3f} (wall); items per rank: "
      + ", ".join("/".join(r[4:]) for r in rows))
print("per run (process, ranks items/s): " + ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(one, many)))
PY
  echo
  echo "# the hand-out over MPI: chunks of one item, no work between (onnxpool_mpi_feed_bench)"
  "${mpirun[@]}" -np 2 build/bin/onnxpool_mpi_feed_bench 20000
  "${mpirun[@]}" --oversubscribe -np 4 build/bin/onnxpool_mpi_feed_bench 20000
} | tee "$out"
