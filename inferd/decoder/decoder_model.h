#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result/result.h"
#include "inferd/decoder/kv_cache.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/generation/decode_step.h"
#include "inferd/model/decoder_config.h"
#include "inferd/model/decoder_weights.h"

namespace tpustack::inferd::decoder {

struct DecoderOptions {
  size_t threads = 1;
  // f32 computes in fp32 end to end; bf16 and i8 round the products' inputs (engine::cpu::Linear), nothing else.
  engine::WeightPrecision precision = engine::WeightPrecision::f32;
};

// A Llama-family decoder (Llama, Mistral, Qwen2) on the CPU: what a generation scheduler calls once per step with
// the chunks of the sequences it runs and their KV cache. Not safe for concurrent calls.
class DecoderModel {
 public:
  // config.json, generation_config.json (optional) and the safetensors weights (one file or index + shards) of a
  // Hugging Face model directory; errors name the file and the field or tensor at fault.
  static Result<DecoderModel> load(const std::filesystem::path& directory, const DecoderOptions& options);
  // The same from a directory already read.
  static Result<DecoderModel> create(model::DecoderCheckpoint checkpoint, const DecoderOptions& options);

  DecoderModel(DecoderModel&&) noexcept;
  DecoderModel& operator=(DecoderModel&&) noexcept;
  ~DecoderModel();

  const model::DecoderConfig& config() const;
  const model::GenerationConfig& generation_config() const;
  engine::WeightPrecision precision() const;
  // The instruction set and oneDNN kernel the products run on ("avx512_core_amx brg:avx512_core_amx").
  std::string kernel() const;

  // A zeroed cache of `shape` for this model's layers and key/value heads.
  KvCache make_cache(generation::KvCacheShape shape) const;

  // Runs every chunk of `step`: writes the keys and values of the chunk's tokens into their cache slots, attends
  // each token to its sequence's positions up to its own (within the sliding window, where the model has one), and
  // writes the last token's logits (vocab_size floats) of each chunk that wants them to `logits`, one row after
  // another in chunk order: step.logits_rows() rows. Chunks of one step must not write the same cache slots.
  // An Error, with nothing computed, names the chunk when the step does not fit the model or the cache: an empty
  // chunk, a token outside the vocabulary, a position past max_position_embeddings, too few blocks, a block past
  // the cache's end.
  Result<void> forward(const generation::DecodeStep& step, KvCache& cache, float* logits);

 private:
  struct State;
  explicit DecoderModel(std::unique_ptr<State> state);
  Result<void> check(const generation::DecodeStep& step, const KvCache& cache, const float* logits) const;

  std::unique_ptr<State> state_;
};

}  // namespace tpustack::inferd::decoder
