#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::generation {

// How one sequence picks its tokens and when it ends: the sampling fields of OpenAI's completions API together with
// those TGI and vLLM add (top_k, min_p, repetition_penalty, stop_token_ids, ignore_eos). Defaults change nothing:
// temperature 1 over the whole vocabulary.
struct SamplingParams {
  float temperature = 1.0f;  // 0 .. 2; 0 picks the most likely token (greedy)
  int32_t top_k = 0;         // the k most likely tokens; 0 or -1 (vLLM's spelling) keeps them all
  float top_p = 1.0f;        // (0, 1]: the smallest set of most likely tokens whose probability reaches top_p
  float min_p = 0.0f;        // [0, 1]: drops tokens less likely than min_p times the most likely one
  // Hugging Face's multiplicative penalty on every token of the prompt and the output: a positive logit is divided
  // by it, a negative one multiplied. Above 0; 1 is none.
  float repetition_penalty = 1.0f;
  // OpenAI's additive penalties over the generated tokens: presence_penalty once for a token that occurred,
  // frequency_penalty once per occurrence, subtracted from its logit. -2 .. 2 each.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::optional<uint64_t> seed;         // the same seed and prompt give the same tokens
  uint32_t max_tokens = 16;             // generated tokens at most (OpenAI's completions default); at least 1
  std::vector<std::string> stop;        // texts that end the output, not themselves shown
  std::vector<int32_t> stop_token_ids;  // tokens that end the output, not themselves shown
  bool logprobs = false;                // report the chosen token's log-probability
  uint32_t top_logprobs = 0;            // 0 .. 20 most likely alternatives per token; needs logprobs
  bool ignore_eos = false;              // go on past the model's end-of-sequence tokens (benchmarks)

  // Temperatures below vLLM's 1e-5 pick greedily too: dividing by them would overflow the logits.
  bool greedy() const;
};

// The first field outside its range, named with the range as OpenAI words it: "temperature" must be between 0 and
// 2, got 3.
Result<void> validate(const SamplingParams& params);

}  // namespace tpustack::inferd::generation
