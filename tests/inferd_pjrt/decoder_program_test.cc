// A Llama-family decoder step emitted as StableHLO (inferd/engine/pjrt/decoder_program.h), compiled and run by the
// PJRT decoder (pjrt_decoder.h) on the fake plugin, its paged KV cache kept on the device from one step to the next,
// against the CPU decoder on the same tiny models, steps and cache blocks.

#include "inferd/engine/pjrt/decoder_program.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "inferd/decoder/decoder_model.h"
#include "inferd/engine/pjrt/pjrt_decoder.h"
#include "inferd/engine/pjrt/pjrt_runtime.h"
#include "inferd/generation/generative_model.h"
#include "inferd/model/safetensors_shards.h"
#include "tests/inferd/cosine.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/inferd_pjrt/fake_pjrt_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::engine::pjrt {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

constexpr size_t kCachePositions = 48;
constexpr size_t kBlockTokens = 16;

model::DecoderWeights load_weights(const std::string& name) {
  const auto directory = inferd::testing::tiny_decoder(name);
  const model::DecoderConfig config = value_of(model::read_decoder_config(directory / "config.json"));
  return value_of(model::load_decoder_weights(value_of(model::SafetensorsShards::open(directory)), config));
}

std::vector<int32_t> prompt(size_t i) {
  return inferd::testing::decoder_reference()["prompts"][i].get<std::vector<int32_t>>();
}

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Blocks of the cache given out in an order of their own, so that no sequence's positions lie together.
std::vector<uint32_t> scattered_blocks(size_t count) {
  std::vector<uint32_t> blocks(count);
  for (size_t i = 0; i < count; ++i) blocks[i] = static_cast<uint32_t>((i * 7 + 3) % count);
  return blocks;
}

// The same steps, as the generation engine hands them, to the CPU decoder over its paged cache and to the PJRT
// decoder on fake device 0 over the same blocks.
class SideBySide {
 public:
  SideBySide(const std::string& name, std::shared_ptr<PjrtRuntime> runtime, size_t sequences, WeightPrecision precision)
      : cpu_(value_of(decoder::DecoderModel::load(inferd::testing::tiny_decoder(name), {.threads = 1}))),
        shape_{kBlockTokens, sequences * kCachePositions / kBlockTokens},
        cache_(cpu_.make_cache(shape_)),
        pjrt_(value_of(PjrtDecoder::create(
            load_weights(name), std::move(runtime), shape_,
            {.precision = precision, .max_batch = 4, .max_tokens = 32, .warmup = false, .model_digest = name}))),
        blocks_(scattered_blocks(shape_.block_count)) {}

  size_t vocab() const { return cpu_.config().vocab_size; }

  // chunks[b] are sequence b's new tokens from position starts[b] on; every chunk wants its logits unless `quiet`
  // names it. Returns the CPU's logits and the PJRT decoder's, a row per chunk that wants them.
  std::pair<std::vector<float>, std::vector<float>> step(const std::vector<std::vector<int32_t>>& chunks,
                                                         const std::vector<size_t>& starts,
                                                         std::optional<size_t> quiet = std::nullopt) {
    const size_t per_sequence = kCachePositions / kBlockTokens;
    generation::DecodeStep step;
    for (size_t b = 0; b < chunks.size(); ++b) {
      step.sequences.push_back({chunks[b], starts[b],
                                std::span<const uint32_t>(blocks_).subspan(b * per_sequence, per_sequence),
                                quiet != b});
    }
    std::vector<float> expected(step.logits_rows() * vocab()), actual(step.logits_rows() * vocab());
    EXPECT_THAT(cpu_.forward(step, cache_, expected.data()), tpustack::testing::Succeeds());
    EXPECT_THAT(pjrt_->forward(step, actual.data()), tpustack::testing::Succeeds());
    return {std::move(expected), std::move(actual)};
  }

  PjrtDecoder& pjrt() { return *pjrt_; }

 private:
  decoder::DecoderModel cpu_;
  generation::KvCacheShape shape_;
  decoder::KvCache cache_;
  std::unique_ptr<PjrtDecoder> pjrt_;
  std::vector<uint32_t> blocks_;
};

class DecoderProgramTest : public FakePjrtTest {
 protected:
  void SetUp() override { INFERD_REQUIRE_TINY_DECODERS(); }

  // Three sequences over scattered blocks: a prompt of 33 tokens (past Mistral's window of 32) prefilled in two
  // chunks, one of 8 prefilled whole and then decoding beside it (steps of a prompt chunk and decoding tokens, two
  // buckets), and one that joins late; then all decode greedily. Every row is compared with the CPU decoder's.
  void expect_steps_match(const std::string& name, WeightPrecision precision, double min_cosine,
                          bool same_argmax) const {
    SideBySide decoders(name, runtime_, 3, precision);
    const size_t vocab = decoders.vocab();
    const std::vector<int32_t> long_prompt = prompt(10), short_prompt = prompt(4), late_prompt = prompt(2);
    ASSERT_EQ(long_prompt.size(), 33u);
    ASSERT_EQ(short_prompt.size(), 8u);

    std::vector<size_t> starts{0, 0, 0};
    std::vector<std::vector<int32_t>> chunks{{long_prompt.begin(), long_prompt.begin() + 20}, short_prompt};
    for (size_t step = 0; step < 6; ++step) {
      // The first chunk of the long prompt wants no logits: its rows are the short prompt's alone.
      const auto [expected, actual] =
          decoders.step(chunks, starts, step == 0 ? std::optional<size_t>(0) : std::nullopt);
      ASSERT_EQ(actual.size(), expected.size());
      const size_t first = step == 0 ? 1 : 0;
      std::vector<int32_t> next(chunks.size());
      for (size_t row = 0; row < actual.size() / vocab; ++row) {
        const std::span<const float> cpu_row(expected.data() + row * vocab, vocab);
        const std::span<const float> program_row(actual.data() + row * vocab, vocab);
        next[first + row] = argmax(cpu_row);
        EXPECT_GE(inferd::testing::cosine(program_row, std::vector<double>(cpu_row.begin(), cpu_row.end())), min_cosine)
            << name << ", step " << step << ", row " << row;
        if (same_argmax) {
          EXPECT_EQ(argmax(program_row), next[first + row]) << name << ", step " << step << ", row " << row;
        }
      }
      for (size_t b = 0; b < chunks.size(); ++b) starts[b] += chunks[b].size();
      if (step == 0) {
        chunks = {{long_prompt.begin() + 20, long_prompt.end()}, {next[1]}};
      } else if (step == 2) {
        chunks = {{next[0]}, {next[1]}, late_prompt};
        starts.resize(3, 0);
      } else {
        for (size_t b = 0; b < chunks.size(); ++b) chunks[b] = {next[b]};
      }
    }
  }

  std::shared_ptr<PjrtRuntime> runtime_ = value_of(PjrtRuntime::open(kFakePlugin, std::nullopt));
};

TEST_F(DecoderProgramTest, LlamaWithTiedEmbeddingsMatchesTheCpuDecoderStepByStep) {
  expect_steps_match("llama", WeightPrecision::f32, 0.9999, true);
}

TEST_F(DecoderProgramTest, GroupedQueryAttentionWithLlama3ScalingMatchesTheCpuDecoder) {
  expect_steps_match("llama3-gqa-sharded", WeightPrecision::f32, 0.9999, true);
}

TEST_F(DecoderProgramTest, Qwen2BiasesMatchTheCpuDecoder) {
  expect_steps_match("qwen2", WeightPrecision::f32, 0.9999, true);
}

TEST_F(DecoderProgramTest, MistralsSlidingWindowMatchesTheCpuDecoder) {
  expect_steps_match("mistral", WeightPrecision::f32, 0.9999, true);
}

TEST_F(DecoderProgramTest, Bfloat16WeightsAndProductsStayCloseToTheFloat32CpuDecoder) {
  expect_steps_match("llama3-gqa-sharded", WeightPrecision::bf16, 0.999, false);
}

TEST_F(DecoderProgramTest, AStepThatDoesNotFitIsRefusedAndChangesNothing) {
  SideBySide decoders("llama", runtime_, 2, WeightPrecision::f32);
  const std::vector<uint32_t> blocks = scattered_blocks(3);
  std::vector<float> logits(decoders.vocab());
  const std::vector<int32_t> too_many(40, 1), outside{1, static_cast<int32_t>(decoders.vocab())};
  generation::DecodeStep step;
  step.sequences.push_back({too_many, 0, blocks, true});
  EXPECT_THAT(decoders.pjrt().forward(step, logits.data()),
              FailsWith("chunk 0 carries 40 tokens up to position 39; this decoder's steps take at most 32 tokens a "
                        "chunk and 96 positions"));
  step.sequences[0].tokens = outside;
  EXPECT_THAT(decoders.pjrt().forward(step, logits.data()), FailsWith(HasSubstr("outside the vocabulary")));
  // Nothing was written: a prompt now reads as it would have on a fresh cache.
  const std::vector<int32_t> first = prompt(4);
  const auto [expected, actual] = decoders.step({first}, {0});
  EXPECT_GE(inferd::testing::cosine(actual, std::vector<double>(expected.begin(), expected.end())), 0.9999);

  // i8 is the CPU's alone.
  EXPECT_THAT(
      PjrtDecoder::create(
          load_weights("llama"), runtime_, {16, 4},
          {.precision = WeightPrecision::i8, .max_batch = 1, .max_tokens = 16, .warmup = false, .model_digest = ""}),
      FailsWith(StartsWith("the PJRT decoder computes in f32 or bf16")));
}

TEST_F(DecoderProgramTest, ABf16CacheOnTheDeviceHoldsTwiceThePositionsInTheSameBytes) {
  const model::DecoderConfig config = load_weights("llama").config;
  const size_t f32_position_bytes = 2 * config.num_layers * config.num_kv_heads * config.head_dim * sizeof(float);
  generation::GenerativeOptions options;
  options.pjrt = runtime_;
  options.kv_cache_bytes = 4 * options.block_tokens * f32_position_bytes;
  options.precision = WeightPrecision::f32;
  const auto f32 = value_of(generation::GenerativeModel::load(inferd::testing::tiny_decoder("llama"), options));
  EXPECT_EQ(f32->context_length(), 4 * options.block_tokens);
  options.precision = WeightPrecision::bf16;
  const auto bf16 = value_of(generation::GenerativeModel::load(inferd::testing::tiny_decoder("llama"), options));
  EXPECT_EQ(bf16->context_length(), 8 * options.block_tokens);
  EXPECT_EQ(bf16->kernel(), "pjrt fake FakeTPU v0 bf16");
}

TEST_F(DecoderProgramTest, TheProgramIsDeterministicAndTakesCachesAndWeightsAsParameters) {
  const model::DecoderConfig qwen2 = load_weights("qwen2").config;
  const std::string f32 = value_of(decoder_program(qwen2, {2, 4, 16}, 65, WeightPrecision::f32));
  EXPECT_EQ(f32, value_of(decoder_program(qwen2, {2, 4, 16}, 65, WeightPrecision::f32)));
  const std::string kv = fmt::format("tensor<65x{}xf32>", qwen2.num_kv_heads * qwen2.head_dim);
  EXPECT_THAT(f32, HasSubstr(fmt::format("func.func public @main(%token_ids: tensor<2x4xi32>, %positions: "
                                         "tensor<2x4xi32>, %write_rows: tensor<2x4xi32>, %context_rows: "
                                         "tensor<2x16xi32>, %rope_inverse_frequencies: tensor<{}xf32>, "
                                         "%layer0_keys: {} {{tf.aliasing_output = 1 : i32}}, %layer0_values: {} "
                                         "{{tf.aliasing_output = 2 : i32}}, %layer1_keys: ",
                                         qwen2.head_dim / 2, kv, kv)));
  EXPECT_THAT(f32, HasSubstr(fmt::format("-> (tensor<2x{}xf32>, {}, {}, {}, {})", qwen2.vocab_size, kv, kv, kv, kv)));
  EXPECT_THAT(f32, HasSubstr("\"stablehlo.scatter\"(%layer0_keys, "));  // written in place, not copied
  EXPECT_THAT(f32, Not(HasSubstr("dense<[")));
  EXPECT_THAT(f32, Not(HasSubstr("chlo.")));

  const std::vector<DecoderParameter> biased = decoder_parameters(qwen2);
  ASSERT_EQ(biased.size(), 1 + 12 * qwen2.num_layers + 1);  // tied: no lm_head
  EXPECT_EQ(biased[2].name, "layer0_q_weight");
  EXPECT_EQ(biased[3].name, "layer0_q_bias");
  EXPECT_EQ(biased.back().name, "final_norm");

  const model::DecoderConfig gqa = load_weights("llama3-gqa-sharded").config;
  const std::vector<DecoderParameter> untied = decoder_parameters(gqa);
  ASSERT_EQ(untied.size(), 1 + 9 * gqa.num_layers + 2);
  EXPECT_EQ(untied[3].name, "layer0_k_weight");
  EXPECT_EQ(untied[3].dims, (std::vector<int64_t>{static_cast<int64_t>(gqa.num_kv_heads * gqa.head_dim),
                                                  static_cast<int64_t>(gqa.hidden_size)}));
  EXPECT_EQ(untied.back().name, "lm_head_weight");
  const std::string bf16 = value_of(decoder_program(gqa, {1, 1, 8}, 17, WeightPrecision::bf16));
  EXPECT_THAT(bf16, HasSubstr(fmt::format("%embed_tokens: tensor<{}x{}xbf16>", gqa.vocab_size, gqa.hidden_size)));
  // The cache is bf16 too, half the bytes a position.
  EXPECT_THAT(bf16, HasSubstr(fmt::format("%layer0_keys: tensor<17x{}xbf16>", gqa.num_kv_heads * gqa.head_dim)));
  EXPECT_EQ(decoder_cache_element_bytes(WeightPrecision::bf16), 2u);
  EXPECT_EQ(decoder_cache_element_bytes(WeightPrecision::f32), 4u);
}

TEST_F(DecoderProgramTest, WhatCannotBeEmittedIsAnError) {
  model::DecoderWeights weights = load_weights("llama");
  const model::DecoderConfig& config = weights.config;
  EXPECT_THAT(decoder_program(config, {1, 1, 8}, 17, WeightPrecision::i8),
              FailsWith(StartsWith("the PJRT decoder computes in f32 or bf16")));
  for (const DecoderBucket empty : {DecoderBucket{1, 0, 8}, DecoderBucket{0, 1, 8}}) {
    EXPECT_THAT(decoder_program(config, empty, 17, WeightPrecision::f32),
                FailsWith("a decoder program needs a batch, tokens, context positions and cache rows"));
  }
  EXPECT_THAT(decoder_program(config, {1, 1, 8}, 0, WeightPrecision::f32),
              FailsWith("a decoder program needs a batch, tokens, context positions and cache rows"));
  EXPECT_THAT(decoder_program(config, {1, 1, config.max_positions + 1}, 17, WeightPrecision::f32),
              FailsWith(fmt::format("a context of {} positions is longer than the model's {} positions",
                                    config.max_positions + 1, config.max_positions)));
  model::DecoderConfig uneven = config;
  uneven.num_kv_heads = 3;
  EXPECT_THAT(decoder_program(uneven, {1, 1, 8}, 17, WeightPrecision::f32),
              FailsWith(HasSubstr("do not group evenly")));
  weights.layers[1].up.weight.pop_back();
  EXPECT_THAT(decoder_weight_values(weights),
              FailsWith(fmt::format("weight layer1_up_weight has {} values where its shape [{}, {}] needs {}",
                                    config.intermediate_size * config.hidden_size - 1, config.intermediate_size,
                                    config.hidden_size, config.intermediate_size * config.hidden_size)));
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
