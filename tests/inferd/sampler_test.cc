#include "inferd/generation/sampler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace tpustack::inferd::generation {
namespace {

using ::testing::ElementsAre;

SamplingParams greedy() {
  SamplingParams params;
  params.temperature = 0;
  return params;
}

// Logits whose softmax is exactly `probabilities`.
std::vector<float> logits_of(std::vector<double> probabilities) {
  std::vector<float> logits;
  for (double probability : probabilities) logits.push_back(static_cast<float>(std::log(probability)));
  return logits;
}

// How often each token comes out of `draws` samples of one sequence seeded with `seed`.
std::map<int32_t, int> draw_counts(const std::vector<float>& logits, const SamplingParams& params, int draws,
                                   uint64_t seed = 1) {
  Sampler sampler;
  std::mt19937_64 rng = sequence_rng(seed, 0);
  std::map<int32_t, int> counts;
  for (int i = 0; i < draws; ++i) ++counts[sampler.sample(logits, params, {}, rng).token];
  return counts;
}

std::set<int32_t> tokens_drawn(const std::vector<float>& logits, const SamplingParams& params) {
  std::set<int32_t> tokens;
  for (const auto& [token, count] : draw_counts(logits, params, 2000)) tokens.insert(token);
  return tokens;
}

int32_t pick(const std::vector<float>& logits, const SamplingParams& params, const TokenHistory& history = {}) {
  Sampler sampler;
  std::mt19937_64 rng = sequence_rng(1, 0);
  return sampler.sample(logits, params, history, rng).token;
}

TEST(Sampler, GreedyPicksTheLargestLogitAndTheLowestIdAmongEquals) {
  EXPECT_EQ(pick({0.1f, 2.0f, -1.0f, 1.9f}, greedy()), 1);
  EXPECT_EQ(pick({1.0f, 3.0f, 3.0f, 2.0f}, greedy()), 1);
  SamplingParams tiny = greedy();
  tiny.temperature = 1e-6f;  // below vLLM's 1e-5: greedy too
  EXPECT_EQ(pick({1.0f, 3.0f, 3.0f, 2.0f}, tiny), 1);
}

TEST(Sampler, AsTheTemperatureFallsTheMostLikelyTokenTakesOver) {
  const std::vector<float> logits{1.0f, 1.2f, 0.9f, 0.0f};
  double previous = 0;
  for (float temperature : {2.0f, 1.0f, 0.3f, 0.1f, 0.01f}) {
    SamplingParams params;
    params.temperature = temperature;
    const double share = draw_counts(logits, params, 4000)[1] / 4000.0;
    EXPECT_GT(share, previous) << "temperature " << temperature;
    previous = share;
  }
  EXPECT_EQ(previous, 1.0);  // at 0.01 the next most likely is e^-20 as likely
}

TEST(Sampler, TopKOfOneIsGreedy) {
  const std::vector<float> logits{0.3f, 0.2f, 0.5f, 0.49f, -1.0f};
  SamplingParams params;
  params.top_k = 1;
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(2));
}

TEST(Sampler, TopKKeepsTheKMostLikely) {
  SamplingParams params;
  params.top_k = 2;
  EXPECT_THAT(tokens_drawn(logits_of({0.1, 0.4, 0.2, 0.3}), params), ElementsAre(1, 3));
}

TEST(Sampler, TopPKeepsTheSmallestSetThatReachesP) {
  const std::vector<float> logits = logits_of({0.15, 0.5, 0.05, 0.3});
  SamplingParams params;
  params.top_p = 0.45f;
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(1));
  params.top_p = 0.75f;  // 0.5 + 0.3 reaches it
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(1, 3));
  params.top_p = 0.85f;
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(0, 1, 3));
  params.top_p = 1;
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(0, 1, 2, 3));
}

TEST(Sampler, TopPRenormalisesWhatItKeeps) {
  SamplingParams params;
  params.top_p = 0.75f;
  const auto counts = draw_counts(logits_of({0.5, 0.3, 0.15, 0.05}), params, 20000);
  EXPECT_NEAR(counts.at(0) / 20000.0, 0.5 / 0.8, 0.02);
  EXPECT_NEAR(counts.at(1) / 20000.0, 0.3 / 0.8, 0.02);
}

TEST(Sampler, MinPDropsTokensLessLikelyThanAShareOfTheBest) {
  const std::vector<float> logits = logits_of({0.5, 0.3, 0.15, 0.05});
  SamplingParams params;
  params.min_p = 0.2f;  // below 0.1 goes
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(0, 1, 2));
  params.min_p = 0.5f;  // below 0.25 goes
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(0, 1));
  params.temperature = 2;  // min_p compares after temperature, which flattens: 0.15 is now sqrt(0.3) of the best
  EXPECT_THAT(tokens_drawn(logits, params), ElementsAre(0, 1, 2));
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokens) {
  const std::vector<int32_t> prompt{0, 0, 7};  // 7 is outside this vocabulary: ignored
  SamplingParams params = greedy();
  params.repetition_penalty = 2;
  // Token 0: 2.0 / 2 = 1.0 < 1.5.
  EXPECT_EQ(pick({2.0f, 1.5f, -1.0f}, params, {prompt, {}}), 1);
  // Token 0: -0.5 * 2 = -1.0 < -0.8.
  EXPECT_EQ(pick({-0.5f, -0.8f}, params, {prompt, {}}), 1);
  // Generated tokens count too; penalised once however often they occur: 4.0 / 2 = 2.0 > 1.9.
  const std::vector<int32_t> generated{1, 1, 1};
  EXPECT_EQ(pick({1.9f, 4.0f}, params, {{}, generated}), 1);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesSubtractOverTheGeneratedTokensOnly) {
  const std::vector<float> logits{3.0f, 2.5f, 0.0f};
  const std::vector<int32_t> twice{0, 0};
  SamplingParams params = greedy();
  params.frequency_penalty = 0.3f;  // 3.0 - 2 * 0.3 = 2.4 < 2.5
  EXPECT_EQ(pick(logits, params, {{}, twice}), 1);
  EXPECT_EQ(pick(logits, params, {twice, {}}), 0);  // in the prompt: no penalty
  params.frequency_penalty = 0;
  params.presence_penalty = 0.4f;  // 3.0 - 0.4 = 2.6 > 2.5, however often
  EXPECT_EQ(pick(logits, params, {{}, twice}), 0);
  params.presence_penalty = 0.6f;  // 2.4
  EXPECT_EQ(pick(logits, params, {{}, twice}), 1);
  // Repetition first, then the additive ones: 3.0 / 1.1 = 2.727 - 0.1 - 2 * 0.1 = 2.427 < 2.5.
  params.repetition_penalty = 1.1f;
  params.presence_penalty = 0.1f;
  params.frequency_penalty = 0.1f;
  EXPECT_EQ(pick(logits, params, {{}, twice}), 1);
  params.frequency_penalty = 0;  // 2.627
  EXPECT_EQ(pick(logits, params, {{}, twice}), 0);
}

std::vector<int32_t> sequence_of(std::mt19937_64 rng, int length) {
  Sampler sampler;
  std::vector<float> flat(100, 0.0f);
  std::vector<int32_t> tokens;
  for (int i = 0; i < length; ++i) tokens.push_back(sampler.sample(flat, SamplingParams{}, {{}, tokens}, rng).token);
  return tokens;
}

TEST(Sampler, TheSameSeedGivesTheSameTokensAndAnotherSeedOthers) {
  EXPECT_EQ(sequence_of(sequence_rng(42, 0), 50), sequence_of(sequence_rng(42, 9), 50));
  EXPECT_NE(sequence_of(sequence_rng(42, 0), 50), sequence_of(sequence_rng(43, 0), 50));
  EXPECT_NE(sequence_of(sequence_rng(std::nullopt, 1), 50), sequence_of(sequence_rng(std::nullopt, 2), 50));
  EXPECT_NE(sequence_of(sequence_rng(std::nullopt, 1), 50), sequence_of(sequence_rng(1, 0), 50));
}

TEST(Sampler, ASequenceDrawsTheSameWhateverSharesItsBatch) {
  const std::vector<int32_t> alone = sequence_of(sequence_rng(7, 0), 30);
  // The same sequence in a batch of three, rows sampled in turn by one Sampler.
  Sampler sampler;
  std::vector<float> flat(100, 0.0f);
  std::array<std::mt19937_64, 3> rngs{sequence_rng(3, 0), sequence_rng(7, 0), sequence_rng(std::nullopt, 4)};
  std::array<std::vector<int32_t>, 3> tokens;
  for (int step = 0; step < 30; ++step) {
    for (size_t row = 0; row < 3; ++row) {
      tokens[row].push_back(sampler.sample(flat, SamplingParams{}, {{}, tokens[row]}, rngs[row]).token);
    }
  }
  EXPECT_EQ(tokens[1], alone);
}

TEST(Sampler, DrawsFollowTheSoftmax) {
  // Deterministic given the seed; the bounds are a few standard deviations wide all the same.
  const auto counts = draw_counts({2.0f, 1.0f, 0.0f, -1.0f}, SamplingParams{}, 40000, 12345);
  const double total = std::exp(2.0) + std::exp(1.0) + 1 + std::exp(-1.0);
  EXPECT_NEAR(counts.at(0) / 40000.0, std::exp(2.0) / total, 0.01);
  EXPECT_NEAR(counts.at(1) / 40000.0, std::exp(1.0) / total, 0.01);
  EXPECT_NEAR(counts.at(2) / 40000.0, 1 / total, 0.01);
  EXPECT_NEAR(counts.at(3) / 40000.0, std::exp(-1.0) / total, 0.01);
}

TEST(Sampler, LogprobsAreTheLogSoftmaxOfTheModelsLogits) {
  const std::vector<float> logits{1.0f, 2.0f, 3.0f, 0.5f, 3.0f};
  const double normaliser = std::log(std::exp(1.0) + std::exp(2.0) + 2 * std::exp(3.0) + std::exp(0.5));
  SamplingParams params = greedy();
  params.logprobs = true;
  params.top_logprobs = 3;
  Sampler sampler;
  std::mt19937_64 rng = sequence_rng(1, 0);
  const SampledToken sampled = sampler.sample(logits, params, {}, rng);
  EXPECT_EQ(sampled.token, 2);
  ASSERT_TRUE(sampled.logprob);
  EXPECT_NEAR(*sampled.logprob, 3.0 - normaliser, 1e-5);
  ASSERT_EQ(sampled.top_logprobs.size(), 3u);
  EXPECT_EQ(sampled.top_logprobs[0].token, 2);
  EXPECT_EQ(sampled.top_logprobs[1].token, 4);
  EXPECT_EQ(sampled.top_logprobs[2].token, 1);
  EXPECT_NEAR(sampled.top_logprobs[2].logprob, 2.0 - normaliser, 1e-5);

  // Before penalties and temperature: a penalised choice still reports what the model gave it.
  const std::vector<int32_t> seen{2, 4};
  params.repetition_penalty = 10;
  const SampledToken penalised = sampler.sample(logits, params, {seen, {}}, rng);
  EXPECT_EQ(penalised.token, 1);
  EXPECT_NEAR(*penalised.logprob, 2.0 - normaliser, 1e-5);

  params.logprobs = false;
  params.top_logprobs = 0;
  EXPECT_FALSE(sampler.sample(logits, params, {}, rng).logprob);
}

TEST(Sampler, AVocabularyOf150kTokensWithTopKAndTopP) {
  std::vector<float> logits(150'000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>((i * 7919) % 1000) / 100.0f;
  std::vector<float> sorted = logits;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  SamplingParams params;
  params.top_k = 50;
  params.top_p = 0.9f;
  params.logprobs = true;
  params.top_logprobs = 20;
  Sampler sampler;
  std::mt19937_64 rng = sequence_rng(5, 0);
  for (int i = 0; i < 20; ++i) {
    const SampledToken sampled = sampler.sample(logits, params, {}, rng);
    EXPECT_GE(logits[sampled.token], sorted[49]);
    EXPECT_EQ(sampled.top_logprobs.size(), 20u);
  }
}

}  // namespace
}  // namespace tpustack::inferd::generation
