#include "inferd/generation/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace tpustack::inferd::generation {

namespace {

// The higher logit first; the lower id among equals, so that every choice is reproducible.
struct MoreLikely {
  std::span<const float> logits;
  bool operator()(int32_t a, int32_t b) const { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); }
};

bool in_vocabulary(int32_t token, size_t vocabulary) { return token >= 0 && static_cast<size_t>(token) < vocabulary; }

// Hugging Face's: once for each distinct token of the prompt and the output. `marks` is zero before and after.
void apply_repetition_penalty(std::span<float> logits, const TokenHistory& history, float penalty,
                              std::vector<uint32_t>& marks) {
  for (std::span<const int32_t> tokens : {history.prompt, history.generated}) {
    for (int32_t token : tokens) {
      if (!in_vocabulary(token, logits.size()) || marks[token] != 0) continue;
      marks[token] = 1;
      logits[token] = logits[token] > 0 ? logits[token] / penalty : logits[token] * penalty;
    }
  }
  for (std::span<const int32_t> tokens : {history.prompt, history.generated}) {
    for (int32_t token : tokens) {
      if (in_vocabulary(token, logits.size())) marks[token] = 0;
    }
  }
}

// OpenAI's: logit -= frequency * count + presence * (count > 0), over the generated tokens. `counts` is zero before
// and after.
void apply_occurrence_penalties(std::span<float> logits, std::span<const int32_t> generated, float presence,
                                float frequency, std::vector<uint32_t>& counts) {
  for (int32_t token : generated) {
    if (in_vocabulary(token, logits.size())) ++counts[token];
  }
  for (int32_t token : generated) {
    if (!in_vocabulary(token, logits.size()) || counts[token] == 0) continue;
    logits[token] -= presence + frequency * static_cast<float>(counts[token]);
    counts[token] = 0;
  }
}

int32_t argmax(std::span<const float> logits) {
  // Strictly greater: among equal logits the lowest id stays.
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

double log_sum_exp(std::span<const float> logits) {
  const double top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float logit : logits) sum += std::exp(logit - top);
  return top + std::log(sum);
}

// 53 random bits in [0, 1): the same numbers from every standard library, unlike std::uniform_real_distribution.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::mt19937_64 sequence_rng(std::optional<uint64_t> seed, uint64_t unseeded_number) {
  if (seed) return std::mt19937_64(*seed);
  // splitmix64's finaliser, so that unseeded sequence n does not repeat the one seeded with n.
  uint64_t mixed = unseeded_number + 0x9e3779b97f4a7c15ULL;
  mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
  mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
  return std::mt19937_64(mixed ^ (mixed >> 31));
}

SampledToken Sampler::sample(std::span<const float> logits, const SamplingParams& params, const TokenHistory& history,
                             std::mt19937_64& rng) {
  if (logits.empty()) throw std::invalid_argument("Sampler::sample: an empty row of logits");
  const size_t vocabulary = logits.size();
  adjusted_.assign(logits.begin(), logits.end());
  counts_.resize(vocabulary, 0);
  if (params.repetition_penalty != 1.0f) {
    apply_repetition_penalty(adjusted_, history, params.repetition_penalty, counts_);
  }
  if (params.presence_penalty != 0.0f || params.frequency_penalty != 0.0f) {
    apply_occurrence_penalties(adjusted_, history.generated, params.presence_penalty, params.frequency_penalty,
                               counts_);
  }

  SampledToken sampled;
  sampled.token = params.greedy() ? argmax(adjusted_) : draw(params, rng);
  if (!params.logprobs) return sampled;

  const double normaliser = log_sum_exp(logits);
  sampled.logprob = static_cast<float>(logits[sampled.token] - normaliser);
  const size_t wanted = std::min<size_t>(params.top_logprobs, vocabulary);
  candidates_.resize(vocabulary);
  std::iota(candidates_.begin(), candidates_.end(), 0);
  std::partial_sort(candidates_.begin(), candidates_.begin() + wanted, candidates_.end(), MoreLikely{logits});
  for (size_t i = 0; i < wanted; ++i) {
    sampled.top_logprobs.push_back({candidates_[i], static_cast<float>(logits[candidates_[i]] - normaliser)});
  }
  return sampled;
}

int32_t Sampler::draw(const SamplingParams& params, std::mt19937_64& rng) {
  const std::span<const float> logits(adjusted_);
  const double top = *std::max_element(logits.begin(), logits.end());
  const double temperature = params.temperature;
  // Probabilities relative to the most likely token's, which min_p compares with directly.
  auto weight = [&](int32_t token) { return std::exp((logits[token] - top) / temperature); };

  candidates_.resize(logits.size());
  std::iota(candidates_.begin(), candidates_.end(), 0);
  if (params.min_p > 0) {
    std::erase_if(candidates_, [&](int32_t token) { return weight(token) < params.min_p; });
  }
  if (params.top_k > 0 && static_cast<size_t>(params.top_k) < candidates_.size()) {
    // nth_element rather than a sort: linear in the vocabulary.
    std::nth_element(candidates_.begin(), candidates_.begin() + params.top_k, candidates_.end(), MoreLikely{logits});
    candidates_.resize(params.top_k);
  }
  // top_p needs the candidates in order; without top_k or min_p to narrow them first that is a sort of the whole
  // vocabulary (n log n), which the other settings skip.
  if (params.top_p < 1) std::sort(candidates_.begin(), candidates_.end(), MoreLikely{logits});

  weights_.resize(candidates_.size());
  std::transform(candidates_.begin(), candidates_.end(), weights_.begin(), weight);
  double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  if (params.top_p < 1) {
    // The smallest prefix whose probability reaches top_p.
    const double wanted = params.top_p * total;
    double kept = 0;
    size_t count = 0;
    while (count < weights_.size() && kept < wanted) kept += weights_[count++];
    weights_.resize(count);
    total = kept;
  }

  const double point = uniform(rng) * total;
  double cumulative = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    cumulative += weights_[i];
    if (point < cumulative) return candidates_[i];
  }
  return candidates_[weights_.size() - 1];  // rounding left `point` at the very top
}

}  // namespace tpustack::inferd::generation
