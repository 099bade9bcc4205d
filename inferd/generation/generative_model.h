#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/generation/generation_engine.h"
#include "inferd/model/decoder_config.h"

namespace tpustack::inferd::engine::pjrt {
class PjrtRuntime;
}  // namespace tpustack::inferd::engine::pjrt

namespace tpustack::inferd::generation {

struct GenerativeOptions {
  size_t threads = 1;
  // None: `--variant auto`, bf16 where the CPU multiplies bf16 itself (AMX or AVX-512 BF16), fp32 otherwise.
  std::optional<engine::WeightPrecision> precision = engine::WeightPrecision::f32;
  size_t kv_cache_bytes = size_t{512} << 20;  // keys and values of every layer: f32 on the CPU, bf16 on PJRT in bf16
  size_t block_tokens = 16;
  size_t max_step_tokens = 512;  // vLLM's max_num_batched_tokens
  size_t max_sequences = 64;     // vLLM's max_num_seqs
  bool static_batching = false;  // the baseline the benchmark compares continuous batching with
  // Where the steps run when not on the CPU: a PJRT plugin's first device, which holds the weights and the KV cache
  // (--variant auto is bf16 there).
  std::shared_ptr<engine::pjrt::PjrtRuntime> pjrt;
  bool pjrt_warmup = false;  // compile the decoding steps' programs at load
  std::string model_digest;  // what the compile cache keys the model by
};

// A decoder model directory loaded for serving: its weights and a paged KV cache on the CPU or a PJRT device, the
// tokenizer, the chat template and the continuous-batching engine that runs them. Request threads build prompts and
// submit; the engine's thread alone calls the model.
class GenerativeModel {
 public:
  // config.json, generation_config.json, the safetensors weights, tokenizer.json (BPE; else a SentencePiece BPE
  // tokenizer.model) and tokenizer_config.json (chat_template, special tokens). A template that does not parse is
  // an error here, not at the first request.
  static Result<std::unique_ptr<GenerativeModel>> load(const std::filesystem::path& directory,
                                                       const GenerativeOptions& options);
  ~GenerativeModel();

  // The ids of a completion's prompt: its text with the tokenizer's template (a BOS where the model has one).
  Result<std::vector<int32_t>> text_prompt(std::string_view text) const;
  // The ids of a chat's prompt: the chat template rendered over `variables` (messages, tools, and whatever else
  // the request passes to it; add_generation_prompt and the special tokens are added here), then tokenized
  // without the template's tokens, as transformers' apply_chat_template does. A model without a template, or a
  // render the template refuses (raise_exception), is an Error the client sees.
  Result<std::vector<int32_t>> chat_prompt(nlohmann::ordered_json variables) const;

  // generation_config.json's sampling (greedy unless it samples): what a request's absent fields take.
  // A token as answers report it (logprobs): the bytes it stands for, and their text with each byte of a partial
  // character as U+FFFD.
  struct TokenText {
    std::string text;
    std::string bytes;
    bool special = false;
  };
  TokenText token_text(int32_t id) const;

  const SamplingParams& defaults() const;
  // A request's max_tokens: the asked number, or when it asks none, what the context has left after the prompt
  // (`fill_context`, chat) or 16 (OpenAI's completions default). An Error, worded as vLLM words it, when the prompt
  // and max_tokens exceed the context.
  Result<uint32_t> max_tokens_for(std::optional<uint32_t> asked, size_t prompt_tokens, bool fill_context) const;

  GenerationEngine& engine() { return *engine_; }
  size_t context_length() const;  // positions one sequence may reach: the model's and the cache's limit
  const model::DecoderConfig& config() const;
  engine::WeightPrecision precision() const;
  std::string kernel() const;

 private:
  struct Parts;
  explicit GenerativeModel(std::unique_ptr<Parts> parts);

  std::unique_ptr<Parts> parts_;
  std::unique_ptr<GenerationEngine> engine_;  // stopped before the parts it calls go
};

}  // namespace tpustack::inferd::generation
