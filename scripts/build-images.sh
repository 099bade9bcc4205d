#!/usr/bin/env bash
# Builds the three images with one version tag, from the repository root (README "Install on GKE"):
#   scripts/build-images.sh [TAG]        TAG defaults to the CMake project version, the tag the manifests'
#                                        kustomize `images:` name, so a default build and a default install agree
#   REGISTRY=us-docker.pkg.dev/P/R scripts/build-images.sh   names them REGISTRY/<program>:TAG (default: tpustack)
#   PUSH=1 ...                           pushes them after building;  ENGINE=podman ...  another engine
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tag=${1:-$(sed -n 's/^project(tpustack VERSION \([^ ]*\) .*/\1/p' "$root/CMakeLists.txt")}
registry=${REGISTRY:-tpustack}
engine=${ENGINE:-docker}
[ -n "$tag" ] || { echo "build-images: no TAG given and no version in CMakeLists.txt" >&2; exit 1; }

for program in deviceplugin:tpu-device-plugin extender:tpu-extender inferd:inferd; do
  image="$registry/${program#*:}:$tag"
  echo "build-images: $image" >&2
  "$engine" build -f "$root/${program%%:*}/Dockerfile" -t "$image" "$root"
  if [ -n "${PUSH:-}" ]; then "$engine" push "$image"; fi
done
