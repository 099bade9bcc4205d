#!/usr/bin/env bash
# README command (a), inferd part: serves two generated demo models and sends an embed and a rerank request.
# The models are seeded random BERT weights in Hugging Face layout (tests/inferd/tools/make_bert_model.py): the
# numbers are real computation but carry no meaning. Needs a built tree ($BUILD_DIR, default build/) and python3-numpy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
port=${INFERD_DEMO_PORT:-18080}
models=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$models"' EXIT

say() { printf '\n==> %s\n' "$*"; }

say "Generating two demo models with RANDOM weights (MiniLM-L6 shape): an embedder and a cross-encoder"
/usr/bin/python3 "$root/tests/inferd/tools/make_bert_model.py" --out "$models/demo-embedder" --shape minilm-l6 --seed 1
/usr/bin/python3 "$root/tests/inferd/tools/make_bert_model.py" --out "$models/demo-reranker" --shape minilm-l6 --seed 2 \
  --cross-encoder

say "inferd serve --models-dir $models --listen 127.0.0.1:$port --preload demo-embedder,demo-reranker"
"$build/inferd/inferd" serve --models-dir "$models" --listen "127.0.0.1:$port" --grpc-listen 127.0.0.1:0 \
  --preload demo-embedder,demo-reranker --threads 2 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done

say "POST /embed (TEI shape); first 4 of 384 numbers per vector shown"
curl -s "http://127.0.0.1:$port/embed" -H 'content-type: application/json' \
  -d '{"model": "demo-embedder", "inputs": ["What is a TPU?", "Tensor processing units run matrix math."]}' |
  /usr/bin/python3 -c 'import json,sys; [print([round(x, 4) for x in v[:4]], "... dim", len(v)) for v in json.load(sys.stdin)]'

say "POST /rerank (TEI shape): documents sorted by score"
curl -s "http://127.0.0.1:$port/rerank" -H 'content-type: application/json' \
  -d '{"model": "demo-reranker", "query": "What is a TPU?", "return_text": true,
       "texts": ["A TPU is an accelerator for neural networks.", "Bananas are yellow.", "TPUs come in slices."]}'
echo

say "GET /info"
curl -s "http://127.0.0.1:$port/info"
echo
kill -TERM "$server"
wait "$server"
say "inferd drained and exited 0 on SIGTERM. The weights were random, so the scores say nothing about the texts."
