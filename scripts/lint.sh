#!/usr/bin/env bash
# Style and static checks (not part of the test command: versions of the tools may differ):
#   scripts/lint.sh          clang-format check of every C++ file, then clang-tidy over src/, bench/ and tools/
#   scripts/lint.sh --fix    reformat in place instead of checking
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
[ -f build/compile_commands.json ] || scripts/build.sh
mapfile -t sources < <(git ls-files 'src/*.cpp' 'bench/*.cpp' 'tools/*.cpp')
clang-tidy -p build --quiet "${sources[@]}"
