#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "inferd/generation/sampling_params.h"

namespace tpustack::inferd::generation {

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
};

struct SampledToken {
  int32_t token = 0;
  std::optional<float> logprob;            // with params.logprobs
  std::vector<TokenLogprob> top_logprobs;  // params.top_logprobs of them, most likely first (ties: lower id)
};

// What a sequence has seen so far, for the penalties.
struct TokenHistory {
  std::span<const int32_t> prompt;
  std::span<const int32_t> generated;
};

// A sequence's own random numbers: from its seed, or else from a number the caller gives each unseeded sequence
// (a counter), so that no sequence's draws depend on which others share its batch.
std::mt19937_64 sequence_rng(std::optional<uint64_t> seed, uint64_t unseeded_number);

// Picks the next token of one sequence from its row of logits. In vLLM's order: the penalties (repetition, then
// frequency and presence), then greedy argmax (ties: the lowest id) or temperature, min_p, top_k, top_p and one draw
// from `rng`. Log-probabilities are vLLM's default ("raw_logprobs"): the log-softmax of the logits as the model gave
// them, before penalties and temperature, so they describe the model rather than this request's settings.
// A Sampler keeps vocabulary-sized scratch between calls; one per thread.
class Sampler {
 public:
  // logits: one per vocabulary id, not empty. History ids outside the vocabulary are ignored.
  SampledToken sample(std::span<const float> logits, const SamplingParams& params, const TokenHistory& history,
                      std::mt19937_64& rng);

 private:
  int32_t draw(const SamplingParams& params, std::mt19937_64& rng);

  std::vector<float> adjusted_;      // the logits after the penalties
  std::vector<uint32_t> counts_;     // per id, zero between calls
  std::vector<int32_t> candidates_;  // ids still in the running
  std::vector<double> weights_;      // unnormalised probabilities of the candidates
};

}  // namespace tpustack::inferd::generation
