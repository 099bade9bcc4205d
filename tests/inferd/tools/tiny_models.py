#!/usr/bin/env python3
"""The tiny BERT models the C++ tests load, and their golden outputs from the numpy reference.

  tiny_models.py models --out DIR     write every tiny model directory under DIR (run by the build)
  tiny_models.py golden --out FILE    regenerate tests/inferd/data/tiny-golden.json
"""
import argparse
import json
import os
import tempfile

from bert_reference import Reference
from make_bert_model import SplitMix64, write_model

MODELS = {
    "f32-mean": dict(seed=11, dtype="F32", prefix=True, pooling="mean", normalize=True),
    "f16-cls": dict(seed=12, dtype="F16", prefix=False, pooling="cls", normalize=False),
    "bf16-mean": dict(seed=13, dtype="BF16", prefix=False, pooling="mean", normalize=True),
    "cross-encoder": dict(seed=14, dtype="F32", cross_encoder=True),
}
LENGTHS = [2, 5, 17, 33, 64]


def inputs():
    rng = SplitMix64(99)
    sequences = []
    for n in LENGTHS:
        middle = ((rng.uniform(n - 2) + 1.0) * 61.0).astype(int) + 5
        sequences.append([2] + [int(t) for t in middle] + [3])
    pairs = []
    for first, second in [(3, 4), (5, 20), (1, 40), (10, 10)]:
        ids = ((rng.uniform(first + second) + 1.0) * 61.0).astype(int) + 5
        pairs.append({"ids": [2] + [int(t) for t in ids[:first]] + [3] + [int(t) for t in ids[first:]] + [3],
                      "type_ids": [0] * (first + 2) + [1] * (second + 1)})
    return sequences, pairs


def write_models(out):
    for name, options in MODELS.items():
        write_model(os.path.join(out, name), shape="tiny", **options)


def golden():
    sequences, pairs = inputs()
    result = {"sequences": sequences, "pairs": pairs, "models": {}}
    with tempfile.TemporaryDirectory() as out:
        write_models(out)
        for name in MODELS:
            reference = Reference(os.path.join(out, name))
            if reference.cross_encoder:
                values = [[round(float(reference.score(p["ids"], p["type_ids"])[0]), 7)] for p in pairs]
            else:
                values = [[round(float(v), 7) for v in reference.embed(s)] for s in sequences]
            result["models"][name] = values
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["models", "golden"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "models":
        write_models(args.out)
        return
    with open(args.out, "w") as f:
        json.dump(golden(), f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
