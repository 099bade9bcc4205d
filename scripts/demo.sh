#!/usr/bin/env bash
# README command (a): set up, build, and tell tpustack's story on this machine with the real programs:
# a JobSet asks for a TPU v6e 4x4 slice that does not exist, tpu-extender's provisioner creates a (simulated)
# node pool, tpu-device-plugin registers the chips on each node, the extender places worker i on host i,
# and inferd starts in each pod with its chips and worker role and answers embed and rerank requests.
# Only the Kubernetes API server and the kubelets are faked (in tpustack-demo).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"

say() { printf '\n==> %s\n' "$*"; }
models=$(mktemp -d)
trap 'rm -rf "$models"' EXIT

say "What one TPU host of that slice looks like to the device plugin (tpu-device-plugin --simulate v6e:4x4:4 --describe)"
# The host, then the whole environment of a full-host allocation (the smaller ones follow in --describe).
"$build/deviceplugin/tpu-device-plugin" --simulate v6e:4x4:4 --describe |
  awk '/^A container given/ { blocks++ } blocks < 2 || /^This slice spans/ { print }'

say "Generating two demo models with RANDOM weights (MiniLM-L6 shape): an embedder and a cross-encoder"
/usr/bin/python3 "$root/tests/inferd/tools/make_bert_model.py" --out "$models/demo-embedder" --shape minilm-l6 --seed 1
/usr/bin/python3 "$root/tests/inferd/tools/make_bert_model.py" --out "$models/demo-reranker" --shape minilm-l6 --seed 2 \
  --cross-encoder

say "The story: tpustack-demo runs the real tpu-extender, tpu-device-plugin (x4) and inferd (x4)"
"$build/tests/e2e/tpustack-demo" --binary-dir "$build" --embedder "$models/demo-embedder" \
  --reranker "$models/demo-reranker"

say "What-if planning on a cluster snapshot (tpu-extender plan): where each pod would go, who waits and why"
"$build/extender/tpu-extender" plan --nodes "$root/tests/extender/data/plan-nodes.yaml" \
  --pods "$root/tests/extender/data/plan-pods.json"

say "What you just saw"
cat <<'TXT'
A JobSet of 4 pods asked for a TPU v6e 4x4 slice (4 hosts x 4 chips) and nothing could take it, so the
scheduler marked the leader Unschedulable. tpu-extender's provisioner created a node pool of exactly that
shape (here the simulated provider wrote the Node objects; on GKE it calls the GKE API). On each new node
tpu-device-plugin registered google.com/tpu with the kubelet and advertised 4 chips. The scheduler asked
tpu-extender (filter, prioritize, bind) for each pod: the first pod it asked about reserved the whole new
slice for the group (the pool was made for it), worker i landed on host i, and the placement was recorded
on the pods (tpustack.dev/worker-id, ...). The scheduler parks pods it could not place; tpu-extender nudged
them (annotation tpustack.dev/nudge) as soon as they fitted, so none waited for the scheduler's flush. Each container got the
device plugin's libtpu environment plus TPU_WORKER_ID / TPU_WORKER_HOSTNAMES, and inferd picked its role
(leader or follower) from them and answered. When the JobSet completed, the pool was deleted after its
grace period. The demo's model weights are random: the vectors and scores are real computation, not meaning.

On GKE with TPU quota (README "Install on GKE"):
  scripts/build-images.sh && ...push     # the three images, tagged with the project version
  kubectl apply -k manifests/overlays/gke             # device plugin, tpu-extender with the GKE provisioner and
                                                      # the admission webhook, tpu-scheduler
  kubectl label namespace default tpustack.dev/inject=enabled
  kubectl apply -f manifests/extender/examples/jobset-v6e-4x4.yaml   # a stock JobSet, unchanged
  kubectl get pods -o wide -w            # Pending -> pool created -> Running, worker i on host i
Run the whole test suite (the same story is the e2e test): bash scripts/test.sh
TXT
