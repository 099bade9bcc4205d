#!/usr/bin/env bash
# ctest's run of a libFuzzer binary (TPUSTACK_FUZZ builds): SECONDS of fuzzing from a copy of CORPUS, so the
# repository's corpus is only read. A crash, a hang over 1 s or an input needing over 512 MB fails the test and
# is kept in FINDINGS.
#   fuzz_briefly.sh FUZZER CORPUS DICTIONARY SECONDS FINDINGS
set -euo pipefail
fuzzer=$1 corpus=$2 dictionary=$3 seconds=$4 findings=$5
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$corpus/." "$scratch/"
mkdir -p "$findings"
dict=()
if [ -f "$dictionary" ]; then dict=(-dict="$dictionary"); fi
"$fuzzer" "$scratch" "${dict[@]}" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512 \
  -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1
