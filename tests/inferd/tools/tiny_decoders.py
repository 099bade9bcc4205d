#!/usr/bin/env python3
"""The tiny decoder models the C++ tests load, and what the numpy reference computes for them.

  tiny_decoders.py --out DIR

writes every model directory under DIR (run by the build), and DIR/reference.json: the seeded prompts and, per
model, llama_reference.run's greedy tokens, margins and logits for them.
"""
import argparse
import json
import os

import numpy as np

from llama_reference import run
from make_bert_model import SplitMix64
from make_llama_model import write_model

# name: (make_llama_model.write_model options, prompts the reference runs greedily)
MODELS = {
    "llama": (dict(shape="tiny-llama", seed=21), 32),
    "llama-f16": (dict(shape="tiny-llama", seed=21, dtype="F16"), 4),
    "llama-bf16": (dict(shape="tiny-llama", seed=21, dtype="BF16"), 4),
    "llama3-gqa-sharded": (dict(shape="tiny-llama3-gqa", seed=22, shards=2), 32),
    "qwen2": (dict(shape="tiny-qwen2", seed=23), 32),
    "mistral": (dict(shape="tiny-mistral", seed=24), 32),
}
PROMPTS = 32
STEPS = 64


def prompts():
    """32 prompts of 1 to 47 tokens below 256 (the smallest vocabulary)."""
    rng = SplitMix64(7)
    lengths = [1, 2, 3, 5, 8, 13, 16, 17, 31, 32, 33, 47] + [int(v) for v in (rng.uniform(20) + 1.0) * 23.0 + 1]
    return [[int(t) for t in ((rng.uniform(n) + 1.0) * 128.0).astype(np.int64)] for n in lengths]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    inputs = prompts()
    assert len(inputs) == PROMPTS
    reference = {"prompts": inputs, "steps": STEPS, "models": {}}
    for name, (options, greedy_prompts) in MODELS.items():
        write_model(os.path.join(out, name), **options)
        reference["models"][name] = run(os.path.join(out, name), inputs[:greedy_prompts], STEPS, 4)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
