#!/usr/bin/env python3
"""An independent numpy forward pass of a Hugging Face BERT model directory (written apart from the C++ engine).

It reads model.safetensors with its own parser, runs each sequence alone (no batching, no padding) and applies
the head the directory declares: sentence-transformers pooling (+ Normalize) or the sequence-classification head.
"""
import json
import math
import os

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = body[start:end]
        if info["dtype"] == "F32":
            array = np.frombuffer(raw, dtype="<f4")
        elif info["dtype"] == "F16":
            array = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif info["dtype"] == "BF16":
            array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: dtype {info['dtype']} of {name}")
        tensors[name] = array.astype(np.float64).reshape(info["shape"])
    return tensors


def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class Reference:
    def __init__(self, directory):
        with open(os.path.join(directory, "config.json")) as f:
            self.config = json.load(f)
        tensors = read_safetensors(os.path.join(directory, "model.safetensors"))
        self.w = {name[len("bert."):] if name.startswith("bert.") else name: v for name, v in tensors.items()}
        self.cross_encoder = "BertForSequenceClassification" in self.config.get("architectures", [])
        self.pooling, self.normalize = "cls", False
        modules_path = os.path.join(directory, "modules.json")
        if os.path.exists(modules_path):
            with open(modules_path) as f:
                modules = json.load(f)
            for module in modules:
                if module["type"].endswith("Pooling"):
                    with open(os.path.join(directory, module["path"], "config.json")) as f:
                        pooling = json.load(f)
                    self.pooling = "mean" if pooling.get("pooling_mode_mean_tokens") else "cls"
                if module["type"].endswith("Normalize"):
                    self.normalize = True

    def hidden_states(self, ids, type_ids):
        c, w = self.config, self.w
        h, heads = c["hidden_size"], c["num_attention_heads"]
        d = h // heads
        eps = c["layer_norm_eps"]
        n = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][type_ids])
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            proj = lambda name, v: v @ w[p + name + ".weight"].T + w[p + name + ".bias"]
            q = proj("attention.self.query", x).reshape(n, heads, d).transpose(1, 0, 2)
            k = proj("attention.self.key", x).reshape(n, heads, d).transpose(1, 0, 2)
            v = proj("attention.self.value", x).reshape(n, heads, d).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(n, h)
            x = layer_norm(proj("attention.output.dense", context) + x, w[p + "attention.output.LayerNorm.weight"],
                           w[p + "attention.output.LayerNorm.bias"], eps)
            inner = gelu(proj("intermediate.dense", x))
            x = layer_norm(proj("output.dense", inner) + x, w[p + "output.LayerNorm.weight"],
                           w[p + "output.LayerNorm.bias"], eps)
        return x

    def embed(self, ids, type_ids=None):
        x = self.hidden_states(ids, type_ids or [0] * len(ids))
        vector = x.mean(axis=0) if self.pooling == "mean" else x[0]
        return vector / np.linalg.norm(vector) if self.normalize else vector

    def score(self, ids, type_ids):
        x = self.hidden_states(ids, type_ids)
        pooled = np.tanh(self.w["pooler.dense.weight"] @ x[0] + self.w["pooler.dense.bias"])
        return self.w["classifier.weight"] @ pooled + self.w["classifier.bias"]
