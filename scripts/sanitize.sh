#!/usr/bin/env bash
# Builds with a sanitizer and runs tests under it:
#   scripts/sanitize.sh address   # AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/: the whole suite
#   scripts/sanitize.sh thread    # ThreadSanitizer, in build-tsan/: the concurrent parts (ctest label
#                                 # `concurrency`, see tests/CMakeLists.txt), built alone to keep CI's time
# Extra arguments go to ctest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kind=${1:-address}
case "$kind" in
  address) dir=build-asan target="" select=(-LE no-sanitizer) ;;
  thread) dir=build-tsan target=concurrency_tests select=(-L concurrency) ;;
  *) echo "usage: scripts/sanitize.sh address|thread [CTEST ARGS...]" >&2; exit 2 ;;
esac
shift || true
BUILD_DIR="$root/$dir" BUILD_TYPE=Debug BUILD_TARGET="$target" CMAKE_ARGS="-DTPUSTACK_SANITIZE=$kind" \
  "$root/scripts/setup.sh"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp}
ctest --test-dir "$root/$dir" --output-on-failure -j "$(nproc)" --timeout 600 "${select[@]}" "$@"
