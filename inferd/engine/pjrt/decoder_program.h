#pragma once

// One step of a Llama-family decoder (Llama, Mistral, Qwen2) as a StableHLO program, MLIR text for a PJRT plugin to
// compile (issue 17). Shapes are static, one program per bucket; the KV cache is a pair of parameters per layer that
// the program returns updated, so a caller feeds each step's caches to the next as device buffers; every weight is a
// parameter, as in encoder_program.h. The text is deterministic: the same arguments give the same bytes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/program_parameters.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/model/decoder_config.h"
#include "inferd/model/decoder_weights.h"

namespace tpustack::inferd::engine::pjrt {

// A static shape a decoder step is compiled for: `batch` sequences of `tokens` new tokens each (a prompt chunk, or 1
// when decoding), each sequence with a cache of `cache_positions` positions.
struct DecoderBucket {
  size_t batch = 0;
  size_t tokens = 0;
  size_t cache_positions = 0;
};

// A weight parameter, named and shaped as model::DecoderWeights holds it.
using DecoderParameter = ProgramParameter;

// The weight parameters, in the order the program takes them after its inputs and caches: embed_tokens, each
// layer's norms and projections (q/k/v biases where config.qkv_bias, o's where config.output_bias), final_norm, and
// lm_head unless config.tie_word_embeddings. Their element type is the program's precision, as encoder_parameters'.
std::vector<DecoderParameter> decoder_parameters(const model::DecoderConfig& config);

// The values of those parameters in `weights`, in the same order. Fails when `weights` lacks a tensor its config
// implies or holds one of another size.
Result<std::vector<std::span<const float>>> decoder_weight_values(const model::DecoderWeights& weights);

// The rotary embedding's inverse frequencies (head_dim / 2, the config's scaling applied as the CPU decoder does),
// the program's %rope_inverse_frequencies.
std::vector<float> decoder_rope_frequencies(const model::DecoderConfig& config);

// A module whose func.func public @main takes, for bucket (B, T, C), KV = num_kv_heads and D = head_dim:
//   token_ids                 tensor<BxTxi32>
//   positions                 tensor<BxTxi32>  each token's position in its sequence, below C and distinct
//                                             within a row; a negative one marks padding
//   rope_inverse_frequencies  tensor<(D/2)xf32>  decoder_rope_frequencies(config)
//   layerN_keys, layerN_values  tensor<BxCxKVxDxf32>  for each layer N in turn: position p of sequence b at [b, p]
//   then decoder_parameters(config), in f32 or bf16
// and returns (logits tensor<BxVxf32>, then every layerN_keys and layerN_values in the same order, updated). Each
// real token's key (rotated) and value are written at its position; padding writes nothing. A token attends to the
// cache's positions up to its own (and within the sliding window, where the config has one), so a step may carry a
// whole prompt, a chunk of one or one token per sequence. The logits are those of each sequence's token at its
// greatest position (what generation samples from); a row of padding alone gives meaningless ones. bf16 multiplies
// bf16 weights and activations into f32 results, as encoder_program's; norms, rotary embedding, softmax, SwiGLU and
// the caches stay f32. The cache update is a product with a one-hot matrix of the positions, at HIGHEST precision so
// that a TPU keeps f32's digits, then a select. Fails for i8, an empty bucket, a cache longer than the model's
// positions, or heads the config does not group evenly.
Result<std::string> decoder_program(const model::DecoderConfig& config, DecoderBucket bucket,
                                    WeightPrecision precision);

}  // namespace tpustack::inferd::engine::pjrt
