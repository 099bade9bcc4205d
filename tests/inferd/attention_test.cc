#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "inferd/engine/cpu/kernels.h"

namespace tpustack::inferd::engine::cpu {
namespace {

// softmax(q kᵀ / sqrt(d)) v per head of each sequence, in double, straight from the definition.
std::vector<double> reference_attention(const std::vector<float>& qkv, const TokenBatch& batch, size_t hidden,
                                        size_t heads) {
  const size_t d = hidden / heads;
  std::vector<double> context(batch.tokens() * hidden);
  for (size_t s = 0; s < batch.size(); ++s) {
    const size_t first = batch.offsets[s], n = batch.length(s);
    for (size_t head = 0; head < heads; ++head) {
      for (size_t i = 0; i < n; ++i) {
        std::vector<double> scores(n);
        double max = -1e300, sum = 0;
        for (size_t j = 0; j < n; ++j) {
          double dot = 0;
          for (size_t c = 0; c < d; ++c) {
            dot += double(qkv[(first + i) * 3 * hidden + head * d + c]) *
                   qkv[(first + j) * 3 * hidden + hidden + head * d + c];
          }
          scores[j] = dot / std::sqrt(double(d));
          max = std::max(max, scores[j]);
        }
        for (double& score : scores) sum += (score = std::exp(score - max));
        for (size_t c = 0; c < d; ++c) {
          double value = 0;
          for (size_t j = 0; j < n; ++j) value += scores[j] * qkv[(first + j) * 3 * hidden + 2 * hidden + head * d + c];
          context[(first + i) * hidden + head * d + c] = value / sum;
        }
      }
    }
  }
  return context;
}

// Head sizes of 8 (no whole vector), 32 and 64 (BERT's), and 24 (a vector and a rest); lengths on both sides of the
// 16-key blocks the keys are transposed in and of the 8-row tiles, and past the 256 rows one task takes.
TEST(FusedAttention, MatchesTheDefinitionForEveryHeadSizeAndLength) {
  std::mt19937 random(11);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  for (auto [hidden, heads] : {std::pair{32, 4}, std::pair{384, 12}, std::pair{256, 4}, std::pair{48, 2}}) {
    TokenBatch batch;
    for (size_t length : {1, 7, 8, 15, 16, 17, 33, 130, 300}) {
      std::vector<int32_t> ids(length, 1);
      batch.add(ids, ids);
    }
    std::vector<float> qkv(batch.tokens() * 3 * size_t(hidden));
    for (float& value : qkv) value = uniform(random);
    std::vector<float> context(batch.tokens() * size_t(hidden), -7.0f);
    self_attention(qkv.data(), context.data(), batch, attention_tasks(batch, heads), hidden, heads);
    const std::vector<double> expected = reference_attention(qkv, batch, hidden, heads);
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_NEAR(context[i], expected[i], 2e-5) << "hidden " << hidden << " heads " << heads << " value " << i;
    }
  }
}

}  // namespace
}  // namespace tpustack::inferd::engine::cpu
