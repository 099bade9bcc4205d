#!/usr/bin/env python3
"""inferd against ONNX Runtime on the same synthetic weights, threads and inputs, in one run.

For each case it runs `inferd bench` (fp32, and int8 where asked) and ort_bench.mjs on both ONNX graphs from
export_onnx.py (each with its thread pool spinning and not), prints every JSON line, then one summary line per case with inferd's throughput over the faster
ONNX Runtime graph and the GFLOP/s each reached against this CPU's fp32 peak.

  compare_onnxruntime.py --modules NODE_MODULES [--shape minilm-l6|bge-small] [--threads 2] [--seconds 5]
                         [--cases 1x128,32x128,32x512,texts32,i8:32x128] [--inferd build/inferd/inferd]

Needs python3-numpy and python3-onnx (Debian), and npm onnxruntime-node + @huggingface/transformers under
NODE_MODULES (ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node @huggingface/transformers).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "inferd", "tools"))
from make_bert_model import write_model  # noqa: E402

def cpu_peak_gflops(build, threads):
    """This CPU's fp32 peak on `threads` threads, measured by bench/inferd/fp32_peak.cc from the same build."""
    out = subprocess.run([os.path.join(build, "bench", "inferd", "inferd_fp32_peak"), "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["fp32_peak_gflop_per_s"]


def flops_per_token(config, seq_len):
    h, inter, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    return layers * (2 * (4 * h * h + 2 * h * inter) + 4 * seq_len * h)


def run(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(out, flush=True)
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", required=True)
    parser.add_argument("--shape", default="minilm-l6")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--cases", default="1x128,32x128,32x512,texts32,i8:32x128")
    parser.add_argument("--inferd", default=os.path.join(ROOT, "build", "inferd", "inferd"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="inferd-vs-ort-")
    model = os.path.join(work, args.shape)
    write_model(model, shape=args.shape, seed=5, pooling="mean", normalize=True)
    subprocess.run([sys.executable, os.path.join(HERE, "export_onnx.py"), "--model", model, "--out", model], check=True)
    texts = os.path.join(work, "texts.jsonl")
    subprocess.run([sys.executable, os.path.join(HERE, "make_texts.py"), "--out", texts, "--count", "256"], check=True,
                   capture_output=True)
    with open(os.path.join(model, "config.json")) as f:
        config = json.load(f)
    peak = cpu_peak_gflops(os.path.dirname(os.path.dirname(os.path.abspath(args.inferd))), args.threads)
    common = ["--threads", str(args.threads), "--seconds", str(args.seconds)]

    for case in args.cases.split(","):
        variant, _, shape = case.rpartition(":")
        variant = variant or "f32"
        if shape.startswith("texts"):
            batch, inputs = shape[len("texts"):], ["--texts", texts]
        else:
            batch, seq_len = shape.split("x")
            inputs = ["--seq-len", seq_len]
        ours = run([args.inferd, "bench", "--model", model, "--batch", batch, "--variant", variant] + inputs + common)
        # ORT's thread pool spins by default; on a busy machine blocking can be faster, so both are measured.
        ort = [run(["node", os.path.join(HERE, "ort_bench.mjs"), "--modules", args.modules, "--model", model,
                    "--onnx", os.path.join(model, graph + ".onnx"), "--batch", batch, "--spinning", spinning]
                   + inputs + common)
               for graph in ("standard", "fused") for spinning in ("1", "0")]
        best = max(ort, key=lambda r: r["seq_per_s"])
        gflops = lambda r: r["tokens_per_s"] * flops_per_token(config, r["seq_len"]) / 1e9
        print(json.dumps({
            "summary": case, "shape": args.shape, "threads": args.threads, "variant": variant,
            "inferd_seq_per_s": round(ours["seq_per_s"], 2), "ort_seq_per_s": round(best["seq_per_s"], 2),
            "ort_graph": best["engine"], "ratio": round(ours["seq_per_s"] / best["seq_per_s"], 3),
            "inferd_gflop_per_s": round(gflops(ours), 1), "ort_gflop_per_s": round(gflops(best), 1),
            "fp32_peak_gflop_per_s": round(peak, 1)}), flush=True)


if __name__ == "__main__":
    main()
