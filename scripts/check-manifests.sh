#!/usr/bin/env bash
# Renders every kustomization under manifests/ (registered with ctest as manifests_render).
# Exits 77 (ctest: skipped) where neither kubectl nor kustomize is installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if command -v kubectl >/dev/null; then
  render=(kubectl kustomize)
elif command -v kustomize >/dev/null; then
  render=(kustomize build)
else
  echo "neither kubectl nor kustomize is installed; skipping"
  exit 77
fi
status=0
while IFS= read -r dir; do
  if "${render[@]}" "$dir" >/dev/null; then
    echo "ok   $dir"
  else
    echo "FAIL $dir"
    status=1
  fi
done < <(find manifests -name kustomization.yaml -printf '%h\n' | sort)
exit $status
