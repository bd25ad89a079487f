#!/usr/bin/env bash
# Prepares, on this (Debian) machine, what the GPU machine needs to run scripts/gpu-check.sh without
# any registry: an install tree (relocatable: RPATH $ORIGIN/../lib, the Debian libraries beside it),
# the test binaries, the models, and the 230 MB CUDA provider split in 60 MB parts, all under .gpu/
# (ignored by git). Each copy to the device carries .gpu/bundle plus one part at a time (64 MiB
# limit): see ../shared/GPU.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ort_root=$(scripts/setup.sh --gpu | tail -n 1)
scripts/build.sh
rm -rf .gpu/bundle && mkdir -p .gpu/bundle/tests .gpu/bundle/models
cmake --install build --prefix .gpu/bundle >/dev/null
cp build/tests/gpu_test build/tests/pool_test .gpu/bundle/tests/
# The models gpu_test and the measurements use (types.onnx: every element type through the IoBinding).
cp build/models/mobilenetv2.onnx build/models/add_mul.onnx build/models/trivial.onnx build/models/types.onnx \
  .gpu/bundle/models/
cp -r build/models/add_mul build/models/types .gpu/bundle/models/
# resnet18.onnx (47 MB) travels alone, like a provider part.
cp build/models/resnet18.onnx .gpu/resnet18.onnx
rm -f .gpu/bundle/lib/libonnxruntime_providers_cuda.so .gpu/cuda.part.*
split -b 60M "$ort_root/lib/libonnxruntime_providers_cuda.so" .gpu/cuda.part.
du -sh .gpu/bundle .gpu/cuda.part.* .gpu/resnet18.onnx
