#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz/, clang, ASan + UBSan; incremental) and runs each for a while.
#
#   scripts/fuzz.sh                      every target, 30 s each
#   scripts/fuzz.sh --seconds 20 npy     one target, 20 s
#   scripts/fuzz.sh --minutes 10         the long run: 10 min each
#
# Targets: npy tensor_pb image journal grammars (tests/fuzz/README.md says what each covers).
# Each starts from a working copy of its committed seeds (tests/fuzz/corpus/<target>, copied into
# build-fuzz/corpus/<target>, which keeps growing from run to run without touching the repository), with
# its dictionary (tests/fuzz/<target>.dict) when it has one. Prints one line per target (executions,
# exec/s, coverage: libFuzzer's cov edges and ft features, corpus size) and exits 1 when any target
# found a crash, a leak, a timeout or an out-of-memory, naming the input it saved (build-fuzz/artifacts/).
#
# Memory: allocator_may_return_null=0 and -malloc_limit_mb (= -rss_limit_mb, 2048): a parser that asks
# for an absurd size on a few bytes of input is reported, with the stack of the allocation, rather than
# getting a null pointer or bad_alloc that some catch might hide. Parsers must check declared sizes
# against the bytes present before they allocate.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(npy tensor_pb image journal grammars)
seconds=30
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --minutes) seconds=$((${2:?--minutes needs a number} * 60)); shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *)
      if [[ " ${all_targets[*]} " != *" $1 "* ]]; then
        echo "fuzz.sh: unknown target '$1' (expected: ${all_targets[*]})" >&2; exit 2
      fi
      targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
[[ "$seconds" =~ ^[0-9]+$ ]] && ((seconds > 0)) || { echo "fuzz.sh: the time must be a positive number" >&2; exit 2; }

ort_root=$(scripts/setup.sh | tail -n 1)
jobs=${ONNXPOOL_JOBS:-$(nproc)}
dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DONNXPOOL_SANITIZE=fuzzer -DONNXRUNTIME_ROOT="$ort_root" >&2
fi
cmake --build "$dir" -j "$jobs" --target "${targets[@]/%/_fuzz}" >&2

export ASAN_OPTIONS="allocator_may_return_null=0:detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
rss_mb=2048

failed=0
summary=()
for target in "${targets[@]}"; do
  corpus="$dir/corpus/$target"
  artifacts="$dir/artifacts/$target"
  log="$dir/logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  for seed in tests/fuzz/corpus/"$target"/*; do
    [ -e "$corpus/${seed##*/}" ] || cp "$seed" "$corpus/"
  done
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=$rss_mb -malloc_limit_mb=$rss_mb
           -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -f "tests/fuzz/$target.dict" ] && options+=(-dict="tests/fuzz/$target.dict")
  echo "== fuzz $target (${seconds} s)" >&2
  status=0
  marker=$(mktemp)
  "$dir/bin/${target}_fuzz" "${options[@]}" "$corpus" >"$log" 2>&1 || status=$?

  # libFuzzer's status lines: "#N DONE cov: E ft: F corp: C/SIZE ..." and the final stats.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  line=$(printf '%-10s execs %9s  exec/s %6s  cov %5s  ft %6s  corpus %s' "$target" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}")
  if ((status != 0)); then
    failed=1
    artifact=$(find "$artifacts" -type f -newer "$marker" | head -n 1)
    line+="  FAILED (exit $status): ${artifact:-no artifact}; log $log"
    echo "-- $target failed; the end of its log:" >&2
    tail -n 40 "$log" >&2
  fi
  rm -f "$marker"
  summary+=("$line")
done

echo "== fuzz summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
