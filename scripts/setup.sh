#!/usr/bin/env bash
# Installs what onnxpool needs on a Debian 12 machine and fetches ONNX Runtime into a cache
# outside the build tree. Idempotent: a second run installs and downloads nothing.
#
#   scripts/setup.sh          Debian packages + ONNX Runtime 1.29.0 (CPU)
#   scripts/setup.sh --gpu    also the CUDA provider of the same version (230 MB)
#   scripts/setup.sh --no-gpu never the CUDA provider
# Without either, the provider is fetched when an NVIDIA driver is present (/proc/driver/nvidia or
# libcuda.so.1 known to the loader), so that a GPU machine gets GPU support from the plain set-up.
#
# Prints the ONNX Runtime root (include/ + lib/) on its last line, for -DONNXRUNTIME_ROOT.
# The cache lives in $ONNXPOOL_CACHE (default: ~/.cache/onnxpool).
set -euo pipefail

want_gpu=auto
for arg in "$@"; do
  case "$arg" in
    --gpu) want_gpu=1 ;;
    --no-gpu) want_gpu=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

log() { echo "setup: $*" >&2; }

if [ "$want_gpu" = auto ]; then
  want_gpu=0
  if [ -d /proc/driver/nvidia ] || { command -v ldconfig >/dev/null && ldconfig -p | grep -q 'libcuda\.so\.1'; }; then
    want_gpu=1
    log "NVIDIA driver found: fetching the CUDA provider too (--no-gpu to skip)"
  fi
fi

# --- Debian packages ------------------------------------------------------------------------------
packages=(
  build-essential cmake ninja-build pkg-config
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  python3 python3-onnx python3-numpy
  gnuplot-nox
  # --images: JPEG (TurboJPEG API), PNG and EXIF orientation; far lighter than OpenCV's imgcodecs,
  # which in Debian 12 pulls in GDAL and hundreds of MB. PIL only writes and cross-checks test images.
  libturbojpeg0-dev libspng-dev libexif-dev python3-pil zlib1g-dev
  # The fuzz targets (scripts/fuzz.sh): clang, and libFuzzer with its sanitizer runtimes.
  clang libclang-rt-14-dev
  # The Python package (python/): pybind11 for Debian's python3 and numpy; its tests run with pytest.
  pybind11-dev python3-dev python3-pytest python3-pip python3-setuptools
  # Its test of Dask (a LocalCluster mapping run_array over blocks) and the Spark-/Ray-style pickling.
  python3-distributed
  # Runs across processes and nodes (mpirun/srun onnxpool run): Open MPI, its headers and its launcher.
  libopenmpi-dev openmpi-bin
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q >&2
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# --- ONNX Runtime from the npm registry, pinned by version and integrity ---------------------------
cache="${ONNXPOOL_CACHE:-$HOME/.cache/onnxpool}"
ort_version=1.29.0
ort_root="$cache/onnxruntime-$ort_version"

# fetch_package NAME@VERSION SHA512_BASE64 -> path of the verified tarball in the cache
fetch_package() {
  local spec=$1 integrity=$2
  local tarball="$cache/downloads/${spec//@/-}.tgz"
  if [ -f "$tarball" ] && [ "$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)" = "$integrity" ]; then
    echo "$tarball"; return
  fi
  command -v npm >/dev/null || { log "npm is needed to fetch $spec"; exit 1; }
  mkdir -p "$cache/downloads"
  local tmp; tmp=$(mktemp -d "$cache/downloads/tmp.XXXXXX")
  log "downloading $spec"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  local got; got=$(ls "$tmp"/*.tgz)
  if [ "$(openssl dgst -sha512 -binary "$got" | base64 -w0)" != "$integrity" ]; then
    rm -rf "$tmp"; log "integrity check failed for $spec"; exit 1
  fi
  mv "$got" "$tarball"; rm -rf "$tmp"
  echo "$tarball"
}

if [ ! -f "$ort_root/.complete" ]; then
  tarball=$(fetch_package com.github.asus4.onnxruntime@0.4.9 \
    'BkzxduSZ9IkeDP6Q8lz2TFU2ie7hSSvS7ZIfzMooExoq0CNzJnuuGaUJ7IsojBgqO4ouD1jXah8OYyJbCN29Fg==')
  stage=$(mktemp -d "$cache/stage.XXXXXX")
  headers='package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers'
  tar -xzf "$tarball" -C "$stage" "$headers" package/Plugins/Linux/x64 package/LICENSE package/ThirdPartyNotices.txt
  mkdir -p "$stage/root/include" "$stage/root/lib"
  cp "$stage/$headers"/*.h "$stage/root/include/"
  cp "$stage"/package/Plugins/Linux/x64/*.so "$stage/root/lib/"
  cp "$stage"/package/LICENSE "$stage"/package/ThirdPartyNotices.txt "$stage/root/"
  mv "$stage/root/lib/libonnxruntime.so" "$stage/root/lib/libonnxruntime.so.$ort_version"
  ln -s "libonnxruntime.so.$ort_version" "$stage/root/lib/libonnxruntime.so.1"
  ln -s libonnxruntime.so.1 "$stage/root/lib/libonnxruntime.so"
  rm -rf "$ort_root"; mv "$stage/root" "$ort_root"; rm -rf "$stage"
  touch "$ort_root/.complete"
  log "ONNX Runtime $ort_version ready in $ort_root"
fi

if ((want_gpu)) && [ ! -f "$ort_root/.gpu-complete" ]; then
  tarball=$(fetch_package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 \
    'FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w==')
  stage=$(mktemp -d "$cache/stage.XXXXXX")
  tar -xzf "$tarball" -C "$stage" --wildcards 'package/Plugins/Linux/x64/*.so'
  cp "$stage"/package/Plugins/Linux/x64/libonnxruntime_providers_*.so "$ort_root/lib/"
  rm -rf "$stage"
  touch "$ort_root/.gpu-complete"
  log "CUDA provider ready in $ort_root/lib"
fi

echo "$ort_root"
