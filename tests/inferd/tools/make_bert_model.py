#!/usr/bin/env python3
"""Writes a seeded random BERT model directory in exact Hugging Face layout.

config.json, model.safetensors (F32, F16 or BF16; tensor names with or without the `bert.` prefix), vocab.txt,
tokenizer.json, and either sentence-transformers modules.json + 1_Pooling/config.json (embedding models) or a
BertForSequenceClassification head (cross-encoders). Weights come from splitmix64, so a seed gives the same
model on any machine and numpy version.

  make_bert_model.py --out DIR [--shape tiny|minilm-l6|bge-small] [--seed N] [--dtype F32|F16|BF16]
                     [--no-prefix] [--pooling mean|cls] [--no-normalize] [--cross-encoder]
"""
import argparse
import json
import os

import numpy as np

SHAPES = {
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                 max_position_embeddings=64),
    "minilm-l6": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536,
                      max_position_embeddings=512),
    "bge-small": dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=12, intermediate_size=1536,
                      max_position_embeddings=512),
}
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "what", "is", "a", "cat", "query",
         "document", "search", "engine", "fast", "model", "text", "embed", "hello", "world", ",", ".", "!", "?"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]


def vocabulary(size):
    tokens = SPECIAL + WORDS + LETTERS + ["##" + c for c in LETTERS] + ["##s", "##ing", "##ed"]
    tokens += [f"[unused{i}]" for i in range(size - len(tokens))]
    return tokens


class SplitMix64:
    """Vectorised splitmix64: uniform floats in [-1, 1) that do not depend on numpy's generators."""

    def __init__(self, seed):
        self.state = np.uint64(seed)

    def uniform(self, count):
        with np.errstate(over="ignore"):
            steps = np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            z = self.state + steps
            self.state = z[-1] if count else self.state
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return ((z >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0).astype(np.float32)


def bert_tensors(config, rng, cross_encoder):
    h, inter = config["hidden_size"], config["intermediate_size"]

    def matrix(rows, cols):
        return rng.uniform(rows * cols).reshape(rows, cols) * np.float32(1.7 / np.sqrt(cols))

    def vector(n, scale=0.05, offset=0.0):
        return rng.uniform(n) * np.float32(scale) + np.float32(offset)

    t = {
        "embeddings.word_embeddings.weight": rng.uniform(config["vocab_size"] * h).reshape(-1, h),
        "embeddings.position_embeddings.weight": rng.uniform(config["max_position_embeddings"] * h).reshape(-1, h)
        * np.float32(0.3),
        "embeddings.token_type_embeddings.weight": rng.uniform(config["type_vocab_size"] * h).reshape(-1, h)
        * np.float32(0.3),
        "embeddings.LayerNorm.weight": vector(h, 0.2, 1.0),
        "embeddings.LayerNorm.bias": vector(h),
    }
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            t[p + f"attention.self.{name}.weight"] = matrix(h, h)
            t[p + f"attention.self.{name}.bias"] = vector(h)
        t[p + "attention.output.dense.weight"] = matrix(h, h)
        t[p + "attention.output.dense.bias"] = vector(h)
        t[p + "attention.output.LayerNorm.weight"] = vector(h, 0.2, 1.0)
        t[p + "attention.output.LayerNorm.bias"] = vector(h)
        t[p + "intermediate.dense.weight"] = matrix(inter, h)
        t[p + "intermediate.dense.bias"] = vector(inter)
        t[p + "output.dense.weight"] = matrix(h, inter)
        t[p + "output.dense.bias"] = vector(h)
        t[p + "output.LayerNorm.weight"] = vector(h, 0.2, 1.0)
        t[p + "output.LayerNorm.bias"] = vector(h)
    if cross_encoder:
        t["pooler.dense.weight"] = matrix(h, h)
        t["pooler.dense.bias"] = vector(h)
    return t


def to_bf16_bytes(array):
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return rounded.astype(np.uint16).tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, array in tensors.items():
        if dtype == "F32":
            blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        elif dtype == "F16":
            blob = np.ascontiguousarray(array, dtype="<f2").tobytes()
        else:
            blob = to_bf16_bytes(array)
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(len(encoded).to_bytes(8, "little"))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def tokenizer_json(vocab, max_length):
    ids = {token: i for i, token in enumerate(vocab)}
    special = lambda name: {"id": name, "ids": [ids[name]], "tokens": [name]}
    item = lambda kind, name, type_id: {kind: {"id": name, "type_id": type_id}}
    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": max_length, "strategy": "LongestFirst", "stride": 0},
        "padding": None,
        "added_tokens": [{"id": ids[t], "content": t, "special": True, "normalized": False}
                         for t in SPECIAL],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [item("SpecialToken", "[CLS]", 0), item("Sequence", "A", 0), item("SpecialToken", "[SEP]", 0)],
            "pair": [item("SpecialToken", "[CLS]", 0), item("Sequence", "A", 0), item("SpecialToken", "[SEP]", 0),
                     item("Sequence", "B", 1), item("SpecialToken", "[SEP]", 1)],
            "special_tokens": {"[CLS]": special("[CLS]"), "[SEP]": special("[SEP]")},
        },
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def write_model(out, shape="tiny", seed=1, dtype="F32", prefix=True, pooling="mean", normalize=True,
                cross_encoder=False, labels=1):
    os.makedirs(out, exist_ok=True)
    vocab = vocabulary(128 if shape == "tiny" else 30522)
    config = dict(SHAPES[shape], model_type="bert", vocab_size=len(vocab), type_vocab_size=2,
                  hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0,
                  architectures=["BertForSequenceClassification" if cross_encoder else "BertModel"])
    rng = SplitMix64(seed)
    tensors = bert_tensors(config, rng, cross_encoder)
    if prefix or cross_encoder:
        tensors = {"bert." + name: value for name, value in tensors.items()}
    if cross_encoder:
        config["id2label"] = {str(i): "LABEL_%d" % i for i in range(labels)}
        tensors["classifier.weight"] = rng.uniform(labels * config["hidden_size"]).reshape(labels, -1)
        tensors["classifier.bias"] = rng.uniform(labels) * np.float32(0.1)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors, dtype)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(vocab, config["max_position_embeddings"]), f)
    if cross_encoder:
        return
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    with open(os.path.join(out, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    with open(os.path.join(out, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": config["hidden_size"], "pooling_mode_cls_token": pooling == "cls",
                   "pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_max_tokens": False,
                   "pooling_mode_mean_sqrt_len_tokens": False}, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32")
    parser.add_argument("--no-prefix", action="store_true")
    parser.add_argument("--pooling", choices=["mean", "cls"], default="mean")
    parser.add_argument("--no-normalize", action="store_true")
    parser.add_argument("--cross-encoder", action="store_true")
    parser.add_argument("--labels", type=int, default=1, help="a cross-encoder's classes (1: a reranker)")
    a = parser.parse_args()
    write_model(a.out, a.shape, a.seed, a.dtype, not a.no_prefix, a.pooling, not a.no_normalize, a.cross_encoder,
                a.labels)


if __name__ == "__main__":
    main()
