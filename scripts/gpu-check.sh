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
echo "== devices"; "$cli" devices; "$cli" devices --json > "$out/devices.json"
echo "== GPU tests"; "$bundle/tests/gpu_test" --gtest_output="xml:$out/gpu_test.xml"
echo "== pool tests"; "$bundle/tests/pool_test" --gtest_brief=1

# Throughput of one configuration: `run` over N random items after a warm-up, items/s from its summary.
measure() {  # name model n devices [more run options]
  local name=$1 model=$2 n=$3 devices=$4; shift 4
  local line
  line=$("$cli" run "$models/$model.onnx" --random "$n" --warmup 8 --devices "$devices" "$@" | head -n 1)
  echo "$name,$model,$devices,$*,$line" | tee -a "$out/gpu_bench.csv"
}
echo "name,model,devices,options,summary" > "$out/gpu_bench.csv"
for model in mobilenetv2 resnet18; do
  [ -f "$models/$model.onnx" ] || continue
  echo "== $model"
  measure gpu_batch1 "$model" 256 cuda:0
  measure gpu_batch32 "$model" 1024 "cuda:0@32"
  measure seq_cpu "$model" 256 "cpu:16"
  measure seq_gpu "$model" 256 "cuda:0"
  measure parallel "$model" 256 "cpu:16,cuda:0" --policy static
  measure pool "$model" 256 "cpu:16,cuda:0" --policy dynamic
  measure pool_batched "$model" 1024 "cpu:16@1,cuda:0@32" --policy dynamic
  measure gpu_1worker "$model" 256 "cuda:0"
  measure gpu_2workers "$model" 256 "cuda:0*2"
  measure cpu_pool "$model" 256 "cpu*16"
done
# Latency percentiles and the CPU strategies on the GPU machine's cores.
"$cli" bench "$models/mobilenetv2.onnx" -q --strategies sequence,parallel,pool --json "$out/cpu_bench.json" \
  --csv "$out/cpu_bench.csv" > "$out/cpu_bench.txt"
echo "results in $out"
