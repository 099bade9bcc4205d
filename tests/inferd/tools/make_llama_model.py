#!/usr/bin/env python3
"""Writes a seeded random Llama-family decoder directory in exact Hugging Face layout.

config.json (LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM), generation_config.json, and the weights as
model.safetensors or as model-0000i-of-0000n.safetensors shards with model.safetensors.index.json. Weights come
from splitmix64 (make_bert_model.SplitMix64), so a seed gives the same model on any machine and numpy version.

  make_llama_model.py --out DIR [--shape NAME] [--seed N] [--dtype F32|F16|BF16] [--shards N]

The tiny shapes are the unit tests' models; smollm-135m has SmolLM-135M's dimensions, for benches.
"""
import argparse
import json
import os

import numpy as np

from make_bert_model import SplitMix64, write_safetensors

ARCHITECTURES = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}

SHAPES = {
    # MHA, tied embeddings.
    "tiny-llama": dict(model_type="llama", hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=4, intermediate_size=128, vocab_size=256, max_position_embeddings=256,
                       rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True, rope_scaling=None),
    # GQA (3 query heads per key/value head), llama3 frequency scaling whose wavelengths fall in all three bands
    # (kept, smoothed, divided) at head_dim 16, untied lm_head.
    "tiny-llama3-gqa": dict(model_type="llama", hidden_size=96, num_hidden_layers=3, num_attention_heads=6,
                            num_key_value_heads=2, intermediate_size=160, vocab_size=384,
                            max_position_embeddings=512, rope_theta=10000.0, rms_norm_eps=1e-5,
                            tie_word_embeddings=False,
                            rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                              high_freq_factor=4.0, original_max_position_embeddings=64)),
    # q/k/v biases, linear position scaling under its old key name "type", sliding window off as Qwen2 ships it.
    "tiny-qwen2": dict(model_type="qwen2", hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, intermediate_size=96, vocab_size=320, max_position_embeddings=256,
                       rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
                       rope_scaling=dict(type="linear", factor=2.0), use_sliding_window=False,
                       sliding_window=256, max_window_layers=2),
    # A head_dim that is not hidden_size / heads, and a sliding window shorter than the test sequences.
    "tiny-mistral": dict(model_type="mistral", hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, head_dim=32, intermediate_size=128, vocab_size=256,
                         max_position_embeddings=256, rope_theta=10000.0, rms_norm_eps=1e-5,
                         tie_word_embeddings=False, sliding_window=32),
    "smollm-135m": dict(model_type="llama", hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                        num_key_value_heads=3, intermediate_size=1536, vocab_size=49152,
                        max_position_embeddings=2048, rope_theta=10000.0, rms_norm_eps=1e-5,
                        tie_word_embeddings=True, rope_scaling=None),
}
TORCH_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def head_dim(config):
    return config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]


def decoder_tensors(config, rng):
    h, inter = config["hidden_size"], config["intermediate_size"]
    d, heads, kv_heads = head_dim(config), config["num_attention_heads"], config["num_key_value_heads"]
    biases = config["model_type"] == "qwen2"

    def matrix(rows, cols):
        return rng.uniform(rows * cols).reshape(rows, cols) * np.float32(1.7 / np.sqrt(cols))

    def vector(n, scale, offset=0.0):
        return rng.uniform(n) * np.float32(scale) + np.float32(offset)

    # Embeddings small beside the layers' outputs, as in trained models: with tied embeddings, rows as large as the
    # layers' outputs make every greedy step repeat the token it was given.
    t = {"model.embed_tokens.weight": rng.uniform(config["vocab_size"] * h).reshape(-1, h) * np.float32(0.25)}
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = vector(h, 0.2, 1.0)
        for name, rows in (("q_proj", heads * d), ("k_proj", kv_heads * d), ("v_proj", kv_heads * d)):
            t[p + f"self_attn.{name}.weight"] = matrix(rows, h)
            if biases:
                t[p + f"self_attn.{name}.bias"] = vector(rows, 0.3)
        t[p + "self_attn.o_proj.weight"] = matrix(h, heads * d)
        t[p + "post_attention_layernorm.weight"] = vector(h, 0.2, 1.0)
        t[p + "mlp.gate_proj.weight"] = matrix(inter, h)
        t[p + "mlp.up_proj.weight"] = matrix(inter, h)
        t[p + "mlp.down_proj.weight"] = matrix(h, inter)
    t["model.norm.weight"] = vector(h, 0.2, 1.0)
    if not config["tie_word_embeddings"]:
        t["lm_head.weight"] = matrix(config["vocab_size"], h) * np.float32(3.0)
    return t


def write_weights(out, tensors, dtype, shards):
    if shards == 1:
        write_safetensors(os.path.join(out, "model.safetensors"), tensors, dtype)
        return
    names = list(tensors)
    weight_map, total = {}, 0
    for s in range(shards):
        part = names[len(names) * s // shards:len(names) * (s + 1) // shards]
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(out, file), {name: tensors[name] for name in part}, dtype)
        for name in part:
            weight_map[name] = file
            total += tensors[name].size * (4 if dtype == "F32" else 2)
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<|eot|>"]  # ids 0-3: config.json's bos 1, generation_config's eos 2 and 3


def byte_level_characters():
    """GPT-2's byte-to-unicode table: the printable character that stands for each byte in a byte-level vocabulary."""
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    extra = [b for b in range(256) if b not in printable]
    table = {b: chr(b) for b in printable}
    table.update({b: chr(256 + i) for i, b in enumerate(extra)})
    return table


def tokenizer_json(vocab_size):
    """A byte-level BPE tokenizer without merges: ids 0-3 special, 4-255 the bytes 4-255, the rest reserved specials."""
    characters = byte_level_characters()
    vocab = {name: i for i, name in enumerate(SPECIAL_TOKENS)}
    vocab.update({characters[b]: b for b in range(len(SPECIAL_TOKENS), 256)})
    specials = SPECIAL_TOKENS + [f"<|reserved_{i}|>" for i in range(256, vocab_size)]
    ids = list(range(len(SPECIAL_TOKENS))) + list(range(256, vocab_size))
    vocab.update({name: i for name, i in zip(specials, ids)})
    added = [{"id": i, "content": name, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for name, i in zip(specials, ids)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
            "pre_tokenizer": byte_level, "post_processor": None, "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": []}}


def write_model(out, shape="tiny-llama", seed=1, dtype="F32", shards=1):
    os.makedirs(out, exist_ok=True)
    config = dict(SHAPES[shape], architectures=[ARCHITECTURES[SHAPES[shape]["model_type"]]], hidden_act="silu",
                  torch_dtype=TORCH_DTYPES[dtype], bos_token_id=1, eos_token_id=2, attention_dropout=0.0)
    write_weights(out, decoder_tensors(config, SplitMix64(seed)), dtype, shards)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    generation = {"bos_token_id": 1, "eos_token_id": [2, 3], "do_sample": True, "temperature": 0.7, "top_p": 0.9,
                  "top_k": 40, "repetition_penalty": 1.1}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(generation, f, indent=2)
    if config["vocab_size"] >= 256:
        with open(os.path.join(out, "tokenizer.json"), "w") as f:
            json.dump(tokenizer_json(config["vocab_size"]), f, ensure_ascii=False)
        with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
            json.dump(tokenizer_config(), f, indent=2)


# A ChatML-like template in the style of Qwen2's, with the tokens as transformers writes AddedToken objects.
CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}<|eot|>{{ message['role'] }}\n{{ message['content'] }}"
                 "{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|eot|>assistant\n"
                 "{% endif %}")


def tokenizer_config():
    return {"bos_token": {"content": "<s>", "special": True}, "eos_token": "</s>", "unk_token": "<unk>",
            "chat_template": CHAT_TEMPLATE, "tokenizer_class": "PreTrainedTokenizerFast"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny-llama")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dtype", choices=sorted(TORCH_DTYPES), default="F32")
    parser.add_argument("--shards", type=int, default=1)
    a = parser.parse_args()
    write_model(a.out, a.shape, a.seed, a.dtype, a.shards)


if __name__ == "__main__":
    main()
