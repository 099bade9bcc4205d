#!/usr/bin/env python3
"""inferd against ONNX Runtime on the same synthetic weights, threads and inputs, in one run.

A case is [VARIANT:]SHAPE: SHAPE is BATCHxLENGTH (synthetic ids) or textsBATCH (licence paragraphs from
make_texts.py, BATCH to a batch, in file order); VARIANT is f32 (the default), i8 or bf16, `inferd bench --variant`.
For each case it runs `inferd bench` and ort_bench.mjs on the fp32 graphs from export_onnx.py (standard and fused,
each with ORT's thread pool spinning and not). An i8 case also runs ORT on int8.onnx (the graph quantize_dynamic
makes of standard.onnx) both ways; an i8 or bf16 case also runs inferd fp32 on the same inputs (ORT has no bf16
CPU path worth comparing). A run asked for by several cases is made once and reused.

It prints a line with this CPU's model, the ISA extensions either engine's kernels may use and the thread count;
when an i8 case is asked, the cosine of ORT int8 against ORT fp32 on 64 paragraphs (so a broken int8 graph is
not mistaken for a fast one); every run's JSON line; then one summary line per case: inferd's throughput over
the fastest ORT fp32 run (ratio_vs_ort_fp32), over the faster ORT int8 run (ratio_vs_ort_int8, i8) and over
inferd fp32 (ratio_vs_inferd_fp32, i8 and bf16), inferd's kernel fields, and the GFLOP/s each reached (int8 and
bf16 counted as the fp32 work they replace) against this CPU's fp32 peak. With --rounds N every case is measured N
times, each round running inferd and ORT back to back, and its summary line gives each figure's median and each
ratio's range over the rounds (a line per round comes before it).

  compare_onnxruntime.py --modules NODE_MODULES [--shape minilm-l6|bge-small] [--threads 2] [--seconds 5]
                         [--cases 1x128,32x128,32x512,texts32,i8:32x128,bf16:32x128] [--rounds 1]
                         [--inferd build/inferd/inferd]

Needs python3-numpy and python3-onnx (Debian), and npm onnxruntime-node + @huggingface/transformers under
NODE_MODULES (ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node @huggingface/transformers).
"""
import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "inferd", "tools"))
from make_bert_model import write_model  # noqa: E402

VARIANTS = ("f32", "i8", "bf16")
# What decides int8, bf16 and fp32 speed on x86: VNNI and AMX for int8 products, AVX512-BF16 and AMX for bf16.
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8",
             "amx_bf16")
# Fields of `inferd bench`'s line that say which code ran; copied into the summary when present.
KERNEL_FIELDS = ("isa", "kernel", "kernels")


def cpu_line(threads):
    """This CPU's model name and which of ISA_FLAGS it has, from /proc/cpuinfo (its first processor)."""
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    flags = set(info.get("flags", "").split())
    return {"cpu": info.get("model name", "unknown"), "isa_flags": [f for f in ISA_FLAGS if f in flags],
            "logical_cpus": os.cpu_count(), "threads": threads}


def cpu_peak_gflops(build, threads):
    """This CPU's fp32 peak on `threads` threads, measured by bench/inferd/fp32_peak.cc from the same build."""
    out = subprocess.run([os.path.join(build, "bench", "inferd", "inferd_fp32_peak"), "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["fp32_peak_gflop_per_s"]


def flops_per_token(config, seq_len):
    h, inter, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    return layers * (2 * (4 * h * h + 2 * h * inter) + 4 * seq_len * h)


@functools.lru_cache(maxsize=None)
def run(round_, *command):
    """Runs a command that ends by printing a JSON line, prints that line, returns it parsed. Cached per round: the
    fp32 runs an i8 or bf16 case compares with are often those of an fp32 case of the same shape."""
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(out, flush=True)
    return json.loads(out)


def fastest(runs):
    return max(runs, key=lambda r: r["seq_per_s"])


def over_rounds(rounds):
    """One summary of a case's rounds: each figure's median, and each ratio's lowest and highest too."""
    summary = dict(rounds[0])
    summary["rounds"] = len(rounds)
    for key, value in rounds[0].items():
        if isinstance(value, (int, float)) and key not in ("threads", "round"):
            values = [r[key] for r in rounds]
            summary[key] = round(statistics.median(values), 3)
            if key.startswith("ratio_"):
                summary[key + "_range"] = [min(values), max(values)]
    summary.pop("round", None)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", required=True)
    parser.add_argument("--shape", default="minilm-l6")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--cases", default="1x128,32x128,32x512,texts32,i8:32x128,bf16:32x128")
    # A VM's speed drifts by up to ±10 % over minutes: several rounds, each running both engines back to back,
    # give a ratio's median and spread instead of one draw.
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--inferd", default=os.path.join(ROOT, "build", "inferd", "inferd"))
    args = parser.parse_args()
    cases = [(variant or "f32", shape) for variant, _, shape in (c.rpartition(":") for c in args.cases.split(","))]
    for variant, _ in cases:
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r} in --cases (one of {', '.join(VARIANTS)})")
    print(json.dumps(cpu_line(args.threads)), flush=True)

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
    common = ("--threads", str(args.threads), "--seconds", str(args.seconds))
    ort_bench = ("node", os.path.join(HERE, "ort_bench.mjs"), "--modules", args.modules, "--model", model)
    graph = lambda name: os.path.join(model, name + ".onnx")

    if any(variant == "i8" for variant, _ in cases):
        run(0, *ort_bench, "--onnx", graph("standard"), "--compare", graph("int8"), "--texts", texts, "--count", "64",
            "--threads", str(args.threads))

    for (variant, shape), case in zip(cases, args.cases.split(",")):
        if shape.startswith("texts"):
            batch, inputs = shape[len("texts"):], ("--texts", texts)
        else:
            batch, seq_len = shape.split("x")
            inputs = ("--seq-len", seq_len)
        rounds = []
        for round_ in range(args.rounds):
            inferd = lambda v: run(round_, args.inferd, "bench", "--model", model, "--batch", batch, "--variant", v,
                                   *inputs, *common)
            # ORT's thread pool spins by default; on a busy machine blocking can be faster, so both are measured.
            ort = lambda names: fastest(run(round_, *ort_bench, "--onnx", graph(name), "--batch", batch, "--spinning",
                                            spinning, *inputs, *common)
                                        for name in names for spinning in ("1", "0"))
            try:
                ours = inferd(variant)
            except subprocess.CalledProcessError as e:
                # A variant this inferd build does not have yet should not cost the other cases.
                print(json.dumps({"summary": case, "variant": variant, "error": (e.stderr or "").strip()[-300:]}),
                      flush=True)
                break
            ort_fp32 = ort(("standard", "fused"))
            gflops = lambda r: round(r["tokens_per_s"] * flops_per_token(config, r["seq_len"]) / 1e9, 1)
            summary = {"summary": case, "shape": args.shape, "threads": args.threads, "variant": variant,
                       "round": round_, **{k: ours[k] for k in KERNEL_FIELDS if k in ours},
                       "inferd_seq_per_s": round(ours["seq_per_s"], 2),
                       "ort_fp32_seq_per_s": round(ort_fp32["seq_per_s"], 2), "ort_fp32_graph": ort_fp32["engine"],
                       "ratio_vs_ort_fp32": round(ours["seq_per_s"] / ort_fp32["seq_per_s"], 3)}
            if variant == "i8":
                ort_int8 = ort(("int8",))
                summary.update(ort_int8_seq_per_s=round(ort_int8["seq_per_s"], 2), ort_int8_graph=ort_int8["engine"],
                               ratio_vs_ort_int8=round(ours["seq_per_s"] / ort_int8["seq_per_s"], 3))
            if variant != "f32":
                fp32 = inferd("f32")
                summary.update(inferd_fp32_seq_per_s=round(fp32["seq_per_s"], 2),
                               ratio_vs_inferd_fp32=round(ours["seq_per_s"] / fp32["seq_per_s"], 3))
            summary.update(inferd_gflop_per_s=gflops(ours), ort_fp32_gflop_per_s=gflops(ort_fp32))
            if variant == "i8":
                summary["ort_int8_gflop_per_s"] = gflops(ort_int8)
            summary["fp32_peak_gflop_per_s"] = round(peak, 1)
            rounds.append(summary)
            if args.rounds > 1:
                print(json.dumps(summary), flush=True)
        if rounds:
            print(json.dumps(over_rounds(rounds)), flush=True)

if __name__ == "__main__":
    main()
