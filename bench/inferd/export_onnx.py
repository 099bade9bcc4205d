#!/usr/bin/env python3
"""Exports a BERT model directory (as tests/inferd/tools/make_bert_model.py writes it) to three ONNX graphs for
ONNX Runtime, all ending in masked mean pooling:

  standard.onnx  plain ONNX ops as a PyTorch export gives (Gather, MatMul, Softmax, LayerNormalization, Erf GELU);
                 int64 inputs input_ids, attention_mask, token_type_ids.
  fused.onnx     the com.microsoft ops ORT's transformer optimizer fuses BERT into (EmbedLayerNormalization,
                 Attention, SkipLayerNormalization, BiasGelu); int32 inputs of the same names.
  int8.onnx      standard.onnx as onnxruntime.quantization.quantize_dynamic(per_channel=True) rewrites it (uint8
                 activations, int8 weights): every MatMul by a weight becomes DynamicQuantizeLinear + MatMulInteger
                 + Cast + Mul by the scales, the word and token-type tables are stored as uint8 behind a
                 DequantizeLinear; attention's activation products, biases and everything else stay float.

  export_onnx.py --model DIR --out DIR          (needs python3-onnx and python3-numpy)
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "inferd", "tools"))
from bert_reference import read_safetensors  # noqa: E402


class Graph:
    def __init__(self, weights):
        self.w, self.nodes, self.initializers, self.count = weights, [], {}, 0

    def const(self, name, array):
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array), name)
        return name

    def weight(self, name, transpose=False):
        array = self.w[name].astype(np.float32)
        return self.const(name + (".T" if transpose else ""), array.T if transpose else array)

    def op(self, op_type, inputs, domain=None, outputs=1, **attrs):
        self.count += 1
        names = [f"{op_type}_{self.count}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, domain=domain, **attrs))
        return names[0] if outputs == 1 else names

    def linear(self, x, name):
        return self.op("Add", [self.op("MatMul", [x, self.weight(name + ".weight", True)]), self.weight(name + ".bias")])

    def model(self, inputs, output, path):
        graph = helper.make_graph(self.nodes, "bert", inputs, [output], list(self.initializers.values()))
        opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
        onnx.save(helper.make_model(graph, opset_imports=opsets), path)


def mean_pool(g, x, mask_float):
    mask3 = g.op("Unsqueeze", [mask_float, g.const("axis_last", np.array([-1], np.int64))])
    axis1 = g.const("axis_1", np.array([1], np.int64))
    total = g.op("ReduceSum", [g.op("Mul", [x, mask3]), axis1], keepdims=0)
    count = g.op("ReduceSum", [mask_float, axis1], keepdims=1)
    return g.op("Div", [total, count])


def standard(config, weights, path):
    g = Graph(weights)
    h, heads = config["hidden_size"], config["num_attention_heads"]
    d, eps = h // heads, config["layer_norm_eps"]
    seq = g.op("Gather", [g.op("Shape", ["input_ids"]), g.const("one", np.array([1], np.int64))])
    positions = g.op("Slice", [g.weight("embeddings.position_embeddings.weight"), g.const("zero", np.array([0], np.int64)),
                               seq, g.const("zero", np.array([0], np.int64))])
    x = g.op("Add", [g.op("Add", [g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"]),
                                  positions]),
                     g.op("Gather", [g.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"])])
    ln = lambda v, name: g.op("LayerNormalization", [v, g.weight(name + ".weight"), g.weight(name + ".bias")],
                              axis=-1, epsilon=eps)
    x = ln(x, "embeddings.LayerNorm")
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    additive = g.op("Mul", [g.op("Sub", [g.const("f_one", np.array(1.0, np.float32)), mask]),
                            g.const("f_neg", np.array(-10000.0, np.float32))])
    additive = g.op("Unsqueeze", [additive, g.const("axes_12", np.array([1, 2], np.int64))])
    split_heads = g.const("split_heads", np.array([0, 0, heads, d], np.int64))
    merge_heads = g.const("merge_heads", np.array([0, 0, h], np.int64))
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        heads_of = lambda name, perm: g.op("Transpose", [g.op("Reshape", [g.linear(x, p + name), split_heads])],
                                           perm=perm)
        q = heads_of("attention.self.query", [0, 2, 1, 3])
        k = heads_of("attention.self.key", [0, 2, 3, 1])
        v = heads_of("attention.self.value", [0, 2, 1, 3])
        scores = g.op("Mul", [g.op("MatMul", [q, k]), g.const(f"scale", np.array(1.0 / np.sqrt(d), np.float32))])
        probs = g.op("Softmax", [g.op("Add", [scores, additive])], axis=-1)
        context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), merge_heads])
        x = ln(g.op("Add", [g.linear(context, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        inner = g.linear(x, p + "intermediate.dense")
        erf = g.op("Erf", [g.op("Mul", [inner, g.const("inv_sqrt2", np.array(1 / np.sqrt(2), np.float32))])])
        gelu = g.op("Mul", [g.op("Mul", [inner, g.const("half", np.array(0.5, np.float32))]),
                            g.op("Add", [erf, g.const("f_one", np.array(1.0, np.float32))])])
        x = ln(g.op("Add", [g.linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm")
    pooled = mean_pool(g, x, mask)
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    g.model(inputs, helper.make_tensor_value_info(pooled, TensorProto.FLOAT, ["batch", h]), path)


def fused(config, weights, path):
    g = Graph(weights)
    h, heads, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    ms = "com.microsoft"
    x, mask_index = g.op("EmbedLayerNormalization",
                         ["input_ids", "token_type_ids", g.weight("embeddings.word_embeddings.weight"),
                          g.weight("embeddings.position_embeddings.weight"),
                          g.weight("embeddings.token_type_embeddings.weight"), g.weight("embeddings.LayerNorm.weight"),
                          g.weight("embeddings.LayerNorm.bias"), "attention_mask"],
                         domain=ms, outputs=2, epsilon=eps)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        parts = [weights[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")]
        qkv_w = g.const(p + "qkv.weight", np.concatenate(parts, axis=1).astype(np.float32))
        qkv_b = g.const(p + "qkv.bias", np.concatenate([weights[p + f"attention.self.{n}.bias"]
                                                        for n in ("query", "key", "value")]).astype(np.float32))
        context = g.op("Attention", [x, qkv_w, qkv_b, mask_index], domain=ms, num_heads=heads)
        skip = lambda v, residual, dense, norm: g.op(
            "SkipLayerNormalization", [g.op("MatMul", [v, g.weight(dense + ".weight", True)]), residual,
                                       g.weight(norm + ".weight"), g.weight(norm + ".bias"), g.weight(dense + ".bias")],
            domain=ms, epsilon=eps)
        x = skip(context, x, p + "attention.output.dense", p + "attention.output.LayerNorm")
        inner = g.op("BiasGelu", [g.op("MatMul", [x, g.weight(p + "intermediate.dense.weight", True)]),
                                  g.weight(p + "intermediate.dense.bias")], domain=ms)
        x = skip(inner, x, p + "output.dense", p + "output.LayerNorm")
    pooled = mean_pool(g, x, g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT))
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT32, ["batch", "sequence"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    g.model(inputs, helper.make_tensor_value_info(pooled, TensorProto.FLOAT, ["batch", h]), path)


# int8.onnx is built here rather than by quantize_dynamic itself because onnxruntime's Python package is not in
# Debian. What follows is what quantize_dynamic(standard, per_channel=True) does with its defaults
# (onnxruntime/python/tools/quantization: operators/matmul.py MatMulInteger, operators/gather.py, quant_utils.py
# quantize_data/compute_scale_zp; MatMulConstBOnly is on in dynamic mode, reduce_range off), node for node, so that
# ORT's own fusions (DynamicQuantizeMatMul / MatMulIntegerToFloat) find the pattern they look for.
def int8_per_column(w):
    """Symmetric int8 per output channel, i.e. per column of B [K, N]: scale = max|w| / 127, zero point 0, values
    in [-127, 127] (quantize_data with INT8 weights, symmetric as signed weights are by default)."""
    absmax = np.abs(w).max(axis=0)
    scale = np.where(absmax > 0, absmax / np.float32(127), np.float32(1)).astype(np.float32)
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale


def uint8_per_tensor(w):
    """Asymmetric uint8 over [min(w, 0), max(w, 0)]: what GatherQuant gives an embedding table (activation type)."""
    low, high = np.float32(min(w.min(), 0)), np.float32(max(w.max(), 0))
    scale = np.float32((high - low) / np.float32(255)) if high > low else np.float32(1)
    zero = np.round(-low / scale)
    return np.clip(np.round(w / scale) + zero, 0, 255).astype(np.uint8), scale, np.uint8(zero)


def int8(source, path):
    model = onnx.load(source)
    floats = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    initializers = {t.name: t for t in model.graph.initializer}
    nodes, dynamic = [], {}

    def const(name, array):
        initializers[name] = numpy_helper.from_array(np.asarray(array), name)
        return name

    def quantized(x):
        # One DynamicQuantizeLinear per activation, shared by its consumers (Q, K and V read the same tensor).
        if x not in dynamic:
            dynamic[x] = [x + "_quantized", x + "_scale", x + "_zero_point"]
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], dynamic[x]))
        return dynamic[x]

    for node in model.graph.node:
        x, w = (list(node.input) + ["", ""])[:2]
        if node.op_type == "MatMul" and w in floats:
            x_q, x_scale, x_zero = quantized(x)
            q, scale = int8_per_column(floats[w])
            # The weight's zero point is an int8 [N] of zeros, as quantize_weight_per_channel writes it.
            w_q, w_scale, w_zero = (const(w + "_quantized", q), const(w + "_scale", scale),
                                    const(w + "_zero_point", np.zeros(scale.shape, np.int8)))
            product = node.output[0] + "_output_quantized"
            scales = f"{x_scale}_{w_scale}_mul:0"
            nodes += [helper.make_node("MatMulInteger", [x_q, w_q, x_zero, w_zero], [product]),
                      helper.make_node("Cast", [product], [product + "_cast_output"], to=TensorProto.FLOAT),
                      helper.make_node("Mul", [x_scale, w_scale], [scales]),
                      helper.make_node("Mul", [product + "_cast_output", scales], [node.output[0]])]
        elif node.op_type == "Gather" and x in floats:
            # The table x is gathered as uint8 at the indices w; its float consumers (the embedding Adds) get the
            # rows back through a DequantizeLinear.
            q, scale, zero = uint8_per_tensor(floats[x])
            gathered = node.output[0] + "_quantized"
            nodes += [helper.make_node("Gather", [const(x + "_quantized", q), w], [gathered]),
                      helper.make_node("DequantizeLinear", [gathered, const(x + "_scale", scale),
                                                            const(x + "_zero_point", zero)], [node.output[0]])]
        else:
            nodes.append(node)
    used = {name for node in nodes for name in node.input}
    del model.graph.node[:], model.graph.initializer[:]
    model.graph.node.extend(nodes)
    model.graph.initializer.extend(t for name, t in initializers.items() if name in used)
    onnx.save(model, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(os.path.join(args.model, "config.json")) as f:
        config = json.load(f)
    tensors = read_safetensors(os.path.join(args.model, "model.safetensors"))
    weights = {n[len("bert."):] if n.startswith("bert.") else n: v.astype(np.float32) for n, v in tensors.items()}
    os.makedirs(args.out, exist_ok=True)
    standard(config, weights, os.path.join(args.out, "standard.onnx"))
    fused(config, weights, os.path.join(args.out, "fused.onnx"))
    int8(os.path.join(args.out, "standard.onnx"), os.path.join(args.out, "int8.onnx"))


if __name__ == "__main__":
    main()
