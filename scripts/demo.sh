#!/usr/bin/env bash
# README command (a): set up, build and run the local demo on its embedded default.
# Today it shows what tpu-device-plugin would advertise on simulated TPU hosts; it grows into the
# whole story (provisioning, placement, inferd) as those components land.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"

say() { printf '\n==> %s\n' "$*"; }

say "One host of a 4-host TPU v6e 4x4 slice (tpu-device-plugin --simulate v6e:4x4:4 --describe)"
"$build/deviceplugin/tpu-device-plugin" --simulate v6e:4x4:4 --describe

say "A single 8-chip TPU v5e host, shared by several containers (--simulate v5e:2x4:8)"
"$build/deviceplugin/tpu-device-plugin" --simulate v5e:2x4:8 --describe

say "What you just saw"
cat <<'TXT'
tpustack's shared TPU model turned a node's accelerator label, slice topology and VM size into the
chips the device plugin advertises (with their NUMA node and place in the host's ICI grid) and the
exact libtpu environment each container gets: the whole host, or a contiguous 1, 2 or 4 chips of it.
Run the test suite with: bash scripts/test.sh
TXT
