#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "common/result/result.h"
#include "inferd/model/decoder_config.h"
#include "inferd/model/dense_weights.h"
#include "inferd/model/safetensors_shards.h"

namespace tpustack::inferd::model {

struct DecoderLayerWeights {
  std::vector<float> input_norm;  // [hidden], RMSNorm before attention
  DenseWeights q, k, v, o;        // q [heads * head_dim, hidden], k and v [kv_heads * head_dim, hidden]
  std::vector<float> post_attention_norm;
  DenseWeights gate, up, down;  // SwiGLU: down(silu(gate x) * up x)
};

// Every tensor of a Llama-family decoder in fp32, by Hugging Face's names (model.layers.N.self_attn.q_proj, ...).
// q and k rows are in HF's layout, which rotates the two halves of each head (rotate_half), not adjacent pairs.
struct DecoderWeights {
  DecoderConfig config;
  std::vector<float> embed_tokens;  // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  std::vector<float> final_norm;        // [hidden]
  std::optional<DenseWeights> lm_head;  // [vocab, hidden]; absent when tied to embed_tokens
};

// Reads every tensor config implies, converted to fp32; an Error names the file and tensor when one is missing or
// has another shape.
Result<DecoderWeights> load_decoder_weights(const SafetensorsShards& shards, const DecoderConfig& config);

// A decoder's Hugging Face directory read whole, whichever backend it runs on.
struct DecoderCheckpoint {
  DecoderWeights weights;
  GenerationConfig generation;
};

// config.json, generation_config.json (optional) and the safetensors weights (one file or index + shards); errors
// name the file and the field or tensor at fault.
Result<DecoderCheckpoint> read_decoder_checkpoint(const std::filesystem::path& directory);

}  // namespace tpustack::inferd::model
