#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz) with clang, libFuzzer and AddressSanitizer + UndefinedBehaviorSanitizer
# into build-fuzz/ (only the targets and what they link), then fuzzes each with its corpus and dictionary:
#   scripts/fuzz.sh [TARGET] [SECONDS]     defaults: every target, one after another, 60 s each
# TARGET is a name of tests/fuzz/NAME_fuzz.cc, with or without _fuzzer (extender_verbs, watch_event, ...).
# New inputs go to build-fuzz/corpus/NAME (the repository's corpus is only read). A crash, a hang over 1 s or an
# input needing over 512 MB is written to build-fuzz/findings/NAME/ and makes the script exit non-zero once every
# target has run. Add each such input to tests/fuzz/corpus/NAME/ once it is fixed, so the ctest replay keeps it
# fixed. FUZZ_JOBS=N fuzzes in N processes at once (libFuzzer's -fork); FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$root/build-fuzz
seconds=${2:-60}
if [ -n "${1:-}" ]; then
  names=("${1%_fuzzer}")
else
  names=()
  for source in "$root"/tests/fuzz/*_fuzz.cc; do
    name=$(basename "$source" _fuzz.cc)
    names+=("$name")
  done
fi

packages=(clang-14 libclang-rt-14-dev cmake make)
bash "$root/scripts/install-missing.sh" fuzz "${packages[@]}"

cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DTPUSTACK_SANITIZE=address -DTPUSTACK_FUZZ=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target "${names[@]/%/_fuzzer}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64:malloc_context_size=10}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fork=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then fork=(-fork="$FUZZ_JOBS"); fi
failed=()
for name in "${names[@]}"; do
  corpus=$dir/corpus/$name
  findings=$dir/findings/$name
  mkdir -p "$corpus" "$findings"
  dict=()
  if [ -f "$root/tests/fuzz/$name.dict" ]; then dict=(-dict="$root/tests/fuzz/$name.dict"); fi
  echo "fuzz: $name for $seconds s" >&2
  # shellcheck disable=SC2086
  "$dir/tests/fuzz/${name}_fuzzer" "$corpus" "$root/tests/fuzz/corpus/$name" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512 -max_len=65536 \
    -artifact_prefix="$findings/" -print_final_stats=1 "${fork[@]}" ${FUZZ_ARGS:-} || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (build-fuzz/findings/)" >&2
  exit 1
fi
