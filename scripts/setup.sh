#!/usr/bin/env bash
# Installs every Debian 12 package tpustack needs to build and test, then configures and builds.
# Idempotent: packages already present are not fetched again, and the build is incremental.
#   scripts/setup.sh                 build into ./build
#   BUILD_DIR=build-x CMAKE_ARGS="-DTPUSTACK_SANITIZE=address" scripts/setup.sh
#   BUILD_TARGET=concurrency_tests scripts/setup.sh   build one target (and what it needs) only
#   scripts/setup.sh --packages      install the packages only (the images' build stage: one list, no drift)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}

packages=(
  g++ cmake make pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcpprest-dev libssl-dev libboost-dev libboost-system-dev
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libutf8proc-dev libopenblas-dev libdnnl-dev libsqlite3-dev libsentencepiece-dev
  clang-format python3 python3-numpy python3-prometheus-client python3-jinja2 curl
)
# The npm client tests (the OpenAI and Hugging Face SDKs) need node and npm. A machine with them from elsewhere keeps
# them: NodeSource's nodejs bundles npm and conflicts with Debian's npm package.
if [ "${1:-}" != --packages ] && ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

bash "$root/scripts/install-missing.sh" setup "${packages[@]}"
[ "${1:-}" = --packages ] && exit 0

jobs=$(nproc)
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$jobs" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
echo "setup: built into $build_dir"
