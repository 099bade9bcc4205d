#!/usr/bin/env bash
# README command (b): set up, build and run the whole test suite with ctest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
# The real-k8s tests run against a real kube-apiserver and kube-scheduler v1.20.2, built once per machine into a
# cache outside the clone (about 10 minutes the first time, nothing after).
"$root/scripts/build-kubernetes.sh" >/dev/null
ctest --test-dir "${BUILD_DIR:-$root/build}" --output-on-failure -j "$(nproc)" --timeout 600 "$@"
