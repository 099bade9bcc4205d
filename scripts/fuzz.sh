#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz) with clang, libFuzzer and AddressSanitizer + UndefinedBehaviorSanitizer
# into build-fuzz/ (only the targets and what they link), then runs one with its corpus and dictionary:
#   scripts/fuzz.sh [TARGET] [SECONDS]     defaults: extender_verbs_fuzzer 60
# New inputs go to build-fuzz/corpus/TARGET (the repository's corpus is only read); a crash, a hang over 1 s or
# an input needing over 512 MB is written to build-fuzz/artifacts/TARGET/ and fails the run. Add each such
# input to tests/fuzz/corpus/ once it is fixed, so the ctest replay keeps it fixed.
# FUZZ_JOBS=N fuzzes in N processes at once (libFuzzer's -fork); FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${1:-extender_verbs_fuzzer}
seconds=${2:-60}
dir=$root/build-fuzz
name=${target%_fuzzer}

packages=(clang-14 libclang-rt-14-dev cmake make)
bash "$root/scripts/install-missing.sh" fuzz "${packages[@]}"

cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DTPUSTACK_SANITIZE=address -DTPUSTACK_FUZZ=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target "$target"

corpus=$dir/corpus/$name
artifacts=$dir/artifacts/$name/
mkdir -p "$corpus" "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64:malloc_context_size=10}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fork=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then fork=(-fork="$FUZZ_JOBS"); fi
# shellcheck disable=SC2086
"$dir/tests/fuzz/$target" "$corpus" "$root/tests/fuzz/corpus/$name" -dict="$root/tests/fuzz/$name.dict" \
  -max_total_time="$seconds" -timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512 -max_len=65536 \
  -artifact_prefix="$artifacts" -print_final_stats=1 "${fork[@]}" ${FUZZ_ARGS:-}
