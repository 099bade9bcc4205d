#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::model {

// The Hugging Face model_type values whose decoder the engine runs; they differ only in biases and attention windows.
enum class DecoderFamily { llama, mistral, qwen2 };

// How rotary position embeddings stretch to contexts longer than training's (config.json rope_scaling).
enum class RopeScaling {
  none,
  linear,  // every frequency divided by factor
  llama3,  // low frequencies divided by factor, high ones kept, a smooth blend between (Llama 3.1)
};

struct RopeConfig {
  double theta = 10000.0;
  RopeScaling scaling = RopeScaling::none;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_positions = 8192.0;
};

// The fields of a Llama-family config.json that shape the decoder.
struct DecoderConfig {
  DecoderFamily family = DecoderFamily::llama;
  size_t vocab_size = 0;
  size_t hidden_size = 0;
  size_t intermediate_size = 0;
  size_t num_layers = 0;
  size_t num_heads = 0;
  size_t num_kv_heads = 0;  // grouped-query attention: num_heads / num_kv_heads query heads share one key/value head
  size_t head_dim = 0;
  size_t max_positions = 0;
  float rms_norm_eps = 1e-6f;
  RopeConfig rope;
  bool tie_word_embeddings = false;  // the output projection is embed_tokens; lm_head.weight is not read
  bool qkv_bias = false;             // Qwen2, or Llama's attention_bias
  bool output_bias = false;          // Llama's attention_bias
  // A query attends to the keys of at most this many positions, its own included (Mistral); none: all before it.
  std::optional<size_t> sliding_window;
  std::string torch_dtype;  // as config.json names it ("bfloat16"); empty when absent
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;
};

// generation_config.json's defaults for sampling, with HF's defaults for fields it leaves out.
struct GenerationConfig {
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;  // any of them ends a sequence
  bool do_sample = false;
  float temperature = 1.0f;
  float top_p = 1.0f;
  size_t top_k = 50;  // 0: no limit
  float repetition_penalty = 1.0f;
};

std::string_view family_name(DecoderFamily family);

Result<DecoderConfig> read_decoder_config(const std::filesystem::path& path);
// config.json's text; `source` names it in errors, which name the field at fault too.
Result<DecoderConfig> parse_decoder_config(std::string_view text, const std::string& source);

// The directory's generation_config.json; without one, HF's defaults and config.json's bos/eos token ids.
Result<GenerationConfig> read_generation_config(const std::filesystem::path& directory, const DecoderConfig& config);
// generation_config.json's text; fields it leaves out keep their value in `defaults`.
Result<GenerationConfig> parse_generation_config(std::string_view text, const std::string& source,
                                                 GenerationConfig defaults);

}  // namespace tpustack::inferd::model
