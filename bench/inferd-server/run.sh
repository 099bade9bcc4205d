#!/usr/bin/env bash
# inferd serve under HTTP load against the engine's raw throughput, in the same run, same model, same texts, same
# engine threads. Prints the engine's JSON line, one line per concurrency level, and the overhead at saturation.
#   bench/inferd-server/run.sh [--seconds S] [--threads N] [--shape minilm-l6|bge-small] [--mixed]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
seconds=10 threads=2 shape=minilm-l6 levels=1,4,16,32 per_request=8 engine_batch=32 mixed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --shape) shape=$2; shift 2 ;;
    --mixed) mixed=1; shift ;;  # real paragraphs of varying length instead of uniform 128-token texts
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
/usr/bin/python3 "$root/tests/inferd/tools/make_bert_model.py" --out "$work/model" --shape "$shape" --seed 1 >/dev/null
texts=$work/texts.jsonl
if [ "$mixed" = 1 ]; then
  /usr/bin/python3 "$root/bench/inferd/make_texts.py" --out "$texts" --count 512 >/dev/null
else
  # Texts of exactly 128 tokens ([CLS] + 126 whole-word vocabulary entries + [SEP]), so batch composition cannot
  # change the work: what differs between the two measurements is the serving path alone.
  /usr/bin/python3 - "$work/model/vocab.txt" "$texts" <<'PY'
import json, random, sys
words = [w for w in open(sys.argv[1]).read().split("\n") if w.isalpha() and w.islower()]
rng = random.Random(7)
with open(sys.argv[2], "w") as out:
    for _ in range(512):
        out.write(json.dumps({"text": " ".join(rng.choice(words) for _ in range(126))}) + "\n")
PY
fi

echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
# The engine alone: on uniform texts, synthetic 128-token batches (no tokenization at all, the strictest baseline);
# on mixed texts, the same texts in file order.
engine_input=(--seq-len 128)
[ "$mixed" = 1 ] && engine_input=(--texts "$texts")
echo "# engine alone: inferd bench --batch $engine_batch ${engine_input[*]}"
engine=$("$build/inferd/inferd" bench --model "$work/model" --batch "$engine_batch" "${engine_input[@]}" \
  --threads "$threads" --seconds "$seconds")
echo "$engine"

port=$((20000 + RANDOM % 12000))  # below the ephemeral ports clients take
"$build/inferd/inferd" serve --model "m=$work/model" --preload m --listen "127.0.0.1:$port" --grpc-listen 127.0.0.1:0 \
  --threads "$threads" --max-batch-requests "$engine_batch" --log-level warn &
server=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done

echo "# inferd serve: POST /embed with $per_request texts per request, closed-loop clients"
served=$("$build/bench/inferd-server/inferd_http_load" --url "http://127.0.0.1:$port" --texts "$texts" \
  --batch "$per_request" --concurrency "$levels" --seconds "$seconds")
echo "$served"
echo "# engine alone again, to bracket the served run on a shared machine"
engine_after=$("$build/inferd/inferd" bench --model "$work/model" --batch "$engine_batch" "${engine_input[@]}" \
  --threads "$threads" --seconds "$seconds")
echo "$engine_after"
/usr/bin/python3 - "$engine" "$served" "$engine_after" <<'PY'
import json, sys
engine = max(json.loads(sys.argv[1])["seq_per_s"], json.loads(sys.argv[3])["seq_per_s"])
best = max(json.loads(line)["seq_per_s"] for line in sys.argv[2].splitlines())
print(f"# engine (better of two) {engine:.1f} seq/s, served at saturation {best:.1f} seq/s: "
      f"serving overhead {100 * (1 - best / engine):.1f}%")
PY
