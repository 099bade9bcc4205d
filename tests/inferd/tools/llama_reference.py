#!/usr/bin/env python3
"""An independent float64 numpy forward pass of a Hugging Face Llama, Mistral or Qwen2 decoder directory.

Written from the definitions in transformers' modeling_llama.py / modeling_mistral.py / modeling_qwen2.py and
modeling_rope_utils.py, not from the C++ engine: every call recomputes the whole sequence with a causal mask (no
KV cache), so the engine's paged cache is checked against plain attention.

  llama_reference.py DIR --prompts FILE [--steps N] [--logits K]

prints {"greedy": [[token, ...], ...], "margins": [...], "last_logits": [[...], ...], "final_logits": [...]}:
N greedy tokens per prompt of the JSON list FILE, the smallest gap between the two best logits over each prompt's
steps, and for the first K prompts the logits of the prompt's last token and of the last greedy step.
"""
import argparse
import json
import math
import os

import numpy as np

from bert_reference import read_safetensors


def read_weights(directory):
    index = os.path.join(directory, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(directory, "model.safetensors"))
    with open(index) as f:
        files = sorted(set(json.load(f)["weight_map"].values()))
    tensors = {}
    for file in files:
        tensors.update(read_safetensors(os.path.join(directory, file)))
    return tensors


def rms_norm(x, weight, eps):
    # LlamaRMSNorm: x * rsqrt(mean(x^2) + eps), then the weight.
    return weight * (x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps))


def silu(x):
    return x / (1.0 + np.exp(-x))


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


class Reference:
    def __init__(self, directory):
        with open(os.path.join(directory, "config.json")) as f:
            self.config = json.load(f)
        self.w = read_weights(directory)
        c = self.config
        self.heads, self.kv_heads = c["num_attention_heads"], c.get("num_key_value_heads") or c["num_attention_heads"]
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        self.inv_freq = self.inverse_frequencies()
        self.window = None
        if c["model_type"] == "mistral" or (c["model_type"] == "qwen2" and c.get("use_sliding_window")):
            self.window = c.get("sliding_window")

    def inverse_frequencies(self):
        c, d = self.config, self.head_dim
        inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (np.arange(0, d, 2, dtype=np.float64) / d))
        scaling = c.get("rope_scaling")
        if not scaling:
            return inv_freq
        kind = scaling.get("rope_type", scaling.get("type"))
        if kind == "linear":
            return inv_freq / scaling["factor"]
        assert kind == "llama3", kind
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_context = scaling["original_max_position_embeddings"]
        low_freq_wavelen, high_freq_wavelen = old_context / low, old_context / high
        wavelen = 2 * math.pi / inv_freq
        scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth = (old_context / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        return np.where(medium, smoothed, scaled)

    def logits(self, ids):
        """Logits of every position of ids, [n, vocab]."""
        c, w = self.config, self.w
        n, d, eps = len(ids), self.head_dim, c["rms_norm_eps"]
        groups = self.heads // self.kv_heads
        freqs = np.outer(np.arange(n, dtype=np.float64), self.inv_freq)
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos, sin = np.cos(emb), np.sin(emb)
        query, key = np.arange(n)[:, None], np.arange(n)[None, :]
        visible = key <= query
        if self.window is not None:
            visible &= key > query - self.window
        bias = lambda name: w.get(name, 0.0)
        x = w["model.embed_tokens.weight"][ids]
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
            proj = lambda name, heads: (h @ w[p + name + ".weight"].T + bias(p + name + ".bias")).reshape(
                n, heads, d).transpose(1, 0, 2)
            q = proj("self_attn.q_proj", self.heads)
            k = proj("self_attn.k_proj", self.kv_heads)
            v = proj("self_attn.v_proj", self.kv_heads)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            # repeat_kv: query head j reads key/value head j // groups.
            k, v = np.repeat(k, groups, axis=0), np.repeat(v, groups, axis=0)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.where(visible, scores, -np.inf)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(n, self.heads * d)
            x = x + context @ w[p + "self_attn.o_proj.weight"].T + bias(p + "self_attn.o_proj.bias")
            h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
            gate = h @ w[p + "mlp.gate_proj.weight"].T
            up = h @ w[p + "mlp.up_proj.weight"].T
            x = x + (silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
        x = rms_norm(x, w["model.norm.weight"], eps)
        head = w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else w["lm_head.weight"]
        return x @ head.T

    def greedy(self, prompt, steps):
        """(generated tokens, smallest top-1/top-2 gap, logits of the prompt's last token, of the last step)."""
        ids, margin, first = list(prompt), math.inf, None
        for _ in range(steps):
            last = self.logits(ids)[-1]
            first = last if first is None else first
            top = np.sort(last)[-2:]
            margin = min(margin, float(top[1] - top[0]))
            ids.append(int(np.argmax(last)))
        return ids[len(prompt):], margin, first, last


def run(directory, prompts, steps, logits_prompts):
    reference = Reference(directory)
    result = {"greedy": [], "margins": [], "last_logits": [], "final_logits": []}
    for i, prompt in enumerate(prompts):
        tokens, margin, first, last = reference.greedy(prompt, steps)
        result["greedy"].append(tokens)
        result["margins"].append(margin)
        if i < logits_prompts:
            result["last_logits"].append([round(float(v), 7) for v in first])
            result["final_logits"].append([round(float(v), 7) for v in last])
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--prompts", required=True, help="a JSON list of token id lists")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--logits", type=int, default=4)
    a = parser.parse_args()
    with open(a.prompts) as f:
        prompts = json.load(f)
    print(json.dumps(run(a.directory, prompts, a.steps, a.logits), separators=(",", ":")))


if __name__ == "__main__":
    main()
