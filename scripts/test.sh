#!/usr/bin/env bash
# The README's test command (and CI's): set-up, build, the whole test suite (unit, CLI, install), then
# the ThreadSanitizer build of the scheduler tests and the AddressSanitizer+UBSan build of the tensor,
# tensor-file and image-decoding tests, and last a short run of every fuzz target (scripts/fuzz.sh;
# ONNXPOOL_FUZZ_SECONDS per target, default 30; `scripts/fuzz.sh --minutes 10` is the long run).
# Idempotent and incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ort_root=$(scripts/setup.sh | tail -n 1)
jobs=${ONNXPOOL_JOBS:-$(nproc)}

echo "== tests" >&2
ctest --test-dir build -j "$jobs" --output-on-failure --timeout 600

for sanitizer in thread address; do
  echo "== $sanitizer sanitizer" >&2
  dir=build-$sanitizer
  [ -f "$dir/build.ninja" ] ||
    cmake -S . -B "$dir" -G Ninja -DONNXPOOL_SANITIZE=$sanitizer -DONNXRUNTIME_ROOT="$ort_root" >&2
  cmake --build "$dir" -j "$jobs" >&2
  # allocator_may_return_null: a hostile file's huge size must become an error, not an ASan abort.
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:halt_on_error=1" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 600
done

echo "== fuzz" >&2
ONNXPOOL_JOBS=$jobs scripts/fuzz.sh --seconds "${ONNXPOOL_FUZZ_SECONDS:-30}"
