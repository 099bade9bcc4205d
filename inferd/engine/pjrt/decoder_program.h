#pragma once

// One step of a Llama-family decoder (Llama, Mistral, Qwen2) as a StableHLO program, MLIR text for a PJRT plugin to
// compile (issue 17). Shapes are static, one program per bucket; the KV cache is paged as the CPU decoder's is (a
// sequence's positions in blocks anywhere in one pool), a pair of parameters per layer that the program returns
// updated, so a caller keeps it on the device from step to step; every weight is a parameter, as in
// encoder_program.h. The text is deterministic: the same arguments give the same bytes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/decoder_buckets.h"
#include "inferd/engine/pjrt/program_parameters.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/model/decoder_config.h"
#include "inferd/model/decoder_weights.h"

namespace tpustack::inferd::engine::pjrt {

// A weight parameter, named and shaped as model::DecoderWeights holds it.
using DecoderParameter = ProgramParameter;

// The weight parameters, in the order the program takes them after its inputs and caches: embed_tokens, each
// layer's norms and projections (q/k/v biases where config.qkv_bias, o's where config.output_bias), final_norm, and
// lm_head unless config.tie_word_embeddings. Their element type is the program's precision, as encoder_parameters'.
std::vector<DecoderParameter> decoder_parameters(const model::DecoderConfig& config);

// The values of those parameters in `weights`, in the same order. Fails when `weights` lacks a tensor its config
// implies or holds one of another size.
Result<std::vector<std::span<const float>>> decoder_weight_values(const model::DecoderWeights& weights);

// Whether decoder_program emits steps of this model at this precision (f32 or bf16; query heads that group evenly
// over the key/value heads, of an even head_dim): what a caller checks once, at load.
Result<void> decoder_program_supports(const model::DecoderConfig& config, WeightPrecision precision);

// Bytes of one cached key or value element on the device at `precision`: 4 (f32), or 2 (bf16).
size_t decoder_cache_element_bytes(WeightPrecision precision);

// The rotary embedding's inverse frequencies (head_dim / 2, the config's scaling applied as the CPU decoder does),
// the program's %rope_inverse_frequencies.
std::vector<float> decoder_rope_frequencies(const model::DecoderConfig& config);

// A module whose func.func public @main takes, for bucket (B, T, C), a cache of R rows, KV = num_kv_heads and
// D = head_dim:
//   token_ids                 tensor<BxTxi32>
//   positions                 tensor<BxTxi32>  each token's position in its sequence, below C and distinct
//                                             within a row; a negative one marks padding
//   write_rows                tensor<BxTxi32>  the cache row each token's key and value go to; padding's must be a
//                                             row no sequence reads (or one outside the cache: XLA drops it)
//   context_rows              tensor<BxCxi32>  the cache row of each position of each sequence; those after a
//                                             sequence's last position are not attended to (any row in the cache)
//   rope_inverse_frequencies  tensor<(D/2)xf32>  decoder_rope_frequencies(config)
//   layerN_keys, layerN_values  tensor<Rx(KV*D)xf32> (bf16 in bf16)  for each layer N in turn, each aliased to its
//                                             result
//   then decoder_parameters(config), in f32 or bf16
// and returns (logits tensor<BxVxf32>, then every layerN_keys and layerN_values in the same order, updated). The
// CPU decoder's paged cache (decoder::KvCache) is this one layer by layer: slot s of block k is row
// k * block_tokens + s. Each token's key (rotated) and value are written to its row first (a scatter), then each
// sequence's context gathered from its rows; a token attends to the positions up to its own (and within the sliding
// window, where the config has one), so a step may carry a whole prompt, a chunk of one or one token per sequence.
// The logits are those of each sequence's token at its greatest position (what generation samples from); a row of
// padding alone gives meaningless ones. bf16 multiplies bf16 weights and activations into f32 results, as
// encoder_program's, and keeps the cache in bf16 as vLLM and JetStream do (twice the positions in the same memory);
// norms, rotary embedding, softmax and SwiGLU stay f32. Fails for i8, an empty bucket
// or cache, a context longer than the model's positions, or heads the config does not group evenly.
Result<std::string> decoder_program(const model::DecoderConfig& config, DecoderBucket bucket, size_t cache_rows,
                                    WeightPrecision precision);

}  // namespace tpustack::inferd::engine::pjrt
