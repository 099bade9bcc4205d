#!/usr/bin/env bash
# Fails when a tracked C++ file differs from .clang-format (registered with ctest as format_check).
# scripts/check-format.sh --fix rewrites the files in place instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files -co --exclude-standard '*.cc' '*.h' '*.cpp' '*.hpp' | grep -v '^tests/data/' || true)
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
