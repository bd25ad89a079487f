#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and no registry: the GPU checks and benchmarks end to end, from the
# bundle scripts/gpu-bundle.sh made elsewhere. Writes everything into OUT (default: gpu-results/).
#   scripts/gpu-check.sh [BUNDLE] [OUT]
# The provider parts (.gpu/cuda.part.*) are joined into BUNDLE/lib first when they are there.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-.gpu/bundle}
out=${2:-gpu-results}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1

if ls .gpu/cuda.part.* >/dev/null 2>&1 && [ ! -f "$bundle/lib/libonnxruntime_providers_cuda.so" ]; then
  cat .gpu/cuda.part.* > "$bundle/lib/libonnxruntime_providers_cuda.so"
fi
[ -f .gpu/resnet18.onnx ] && cp .gpu/resnet18.onnx "$bundle/models/"
cli="$bundle/bin/onnxpool"
models="$bundle/models"
export ONNXPOOL_MODEL_DIR="$models" LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== driver"; nvidia-smi || echo "nvidia-smi failed"
echo "== provider's libraries (CUDA 13: cudart, cuBLAS, cuBLASLt, cuRAND, cuFFT, cuDNN)"
ldd "$bundle/lib/libonnxruntime_providers_cuda.so" | tee "$out/provider_ldd.txt" | grep -E "not found|cuda|cublas|cudnn" || true
echo "== devices"; "$cli" devices; "$cli" devices --json > "$out/devices.json"
# ONNX Runtime's own log of the provider's registration and device discovery (/sys/class/drm, then the
# PCI bus): where a CUDA EP device is missing, this says why.
"$cli" -vv devices > "$out/devices_verbose.txt" 2>&1
echo "== GPU tests"; "$bundle/tests/gpu_test" --gtest_output="xml:$out/gpu_test.xml"
echo "== pool tests"; "$bundle/tests/pool_test" --gtest_brief=1
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
all_gpus=$(seq -s, -f 'cuda:%g' 0 $((${gpus:-1} - 1)))

# One run over N random items after a warm-up: its summary line (items/s) and items per worker.
measure() {  # name model n devices [more run options]
  local name=$1 model=$2 n=$3 devices=$4; shift 4
  local summary
  summary=$("$cli" run "$models/$model.onnx" --random "$n" --warmup 8 --devices "$devices" "$@")
  echo "$summary" > "$out/run_${model}_${name}.txt"
  echo "$name,$model,$devices,$*,$(head -n 1 <<<"$summary")" | tee -a "$out/gpu_run.csv"
}
# A bench (sweep or grid) into out/bench_<model>_<name>.{txt,json,csv}.
bench() {  # name model [bench options]
  local name=$1 model=$2; shift 2
  local base="$out/bench_${model}_${name}"
  echo "-- $model: $name ($*)"
  "$cli" bench "$models/$model.onnx" -q "$@" --json "$base.json" --csv "$base.csv" | tee "$base.txt"
}
echo "name,model,devices,options,summary" > "$out/gpu_run.csv"
for model in mobilenetv2 resnet18; do
  [ -f "$models/$model.onnx" ] || continue
  echo "== $model"
  # The GPU alone at batch 1 and 32: items/s and latency p50/p99.
  bench gpu_batch "$model" --devices cuda:0 --grid batch=1,32 --items 1024
  # The tutorial's CPU+GPU experiment: seq_cpu, seq_gpu, parallel (static split), pool (dynamic).
  bench cpu_gpu "$model" --devices cpu,cuda:0 --max-n 32
  # The same with the GPU worker stacking up to 32 items per run.
  bench cpu_gpu_batched "$model" --devices cpu,cuda:0@32 --strategies seq_gpu,pool --max-n 64
  # 1 vs 2 workers (sessions, streams) on one GPU at batch 1.
  bench gpu_workers "$model" --devices cuda:0*2 --strategies seq_gpu,parallel,pool --max-n 64
  measure gpu_1worker "$model" 512 cuda:0
  measure gpu_2workers "$model" 512 "cuda:0*2"
  if [ "${gpus:-0}" -gt 1 ]; then
    # Several GPUs, one session each: seq_gpu on one vs parallel/pool over all.
    bench multi_gpu "$model" --devices "$all_gpus" --strategies seq_gpu,parallel,pool --max-n 32
  fi
done
# The CPU strategies on the GPU machine's cores (target: pool >= 1.5x sequence on MobileNetV2).
bench cpu mobilenetv2 --strategies sequence,parallel,pool
# The figures and the issue's targets in one page (also runnable later, where the results come back).
command -v python3 >/dev/null && python3 bench/summarize_gpu.py "$out" > /dev/null
echo "results in $out"
