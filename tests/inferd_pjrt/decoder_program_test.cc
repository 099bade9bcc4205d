// A Llama-family decoder step emitted as StableHLO (inferd/engine/pjrt/decoder_program.h), compiled and run through
// inferd's PJRT client on the fake plugin, its KV caches fed from one step to the next as device buffers, against
// the CPU decoder on the same tiny models, tokens and steps.

#include "inferd/engine/pjrt/decoder_program.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "inferd/decoder/decoder_model.h"
#include "inferd/engine/pjrt/pjrt_plugin.h"
#include "inferd/model/safetensors_shards.h"
#include "tests/inferd/cosine.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/inferd_pjrt/fake_pjrt_fixture.h"
#include "tests/inferd_pjrt/weight_buffers.h"
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

// The decoder's programs on fake device 0, its weights uploaded once and each sequence's caches kept between steps.
class ProgramDecoder {
 public:
  ProgramDecoder(const PjrtClient& client, const model::DecoderWeights& weights, size_t batch,
                 WeightPrecision precision)
      : client_(client), config_(weights.config), batch_(batch), precision_(precision) {
    const std::vector<float> frequencies = decoder_rope_frequencies(config_);
    frequencies_.push_back(
        value_of(client_.buffer_from_host(frequencies, {static_cast<int64_t>(frequencies.size())}, 0)));
    const std::vector<int64_t> cache_dims{static_cast<int64_t>(batch), static_cast<int64_t>(kCachePositions),
                                          static_cast<int64_t>(config_.num_kv_heads),
                                          static_cast<int64_t>(config_.head_dim)};
    const std::vector<float> zeros(batch * kCachePositions * config_.num_kv_heads * config_.head_dim, 0.0f);
    for (size_t i = 0; i < 2 * config_.num_layers; ++i) {
      caches_.push_back(value_of(client_.buffer_from_host(zeros, cache_dims, 0)));
    }
    weights_ =
        upload_weights(client_, decoder_parameters(config_), value_of(decoder_weight_values(weights)), precision);
  }

  // One step: chunks[b] are sequence b's new tokens from position starts[b] on (none: a row of padding), in a
  // bucket of `tokens` per sequence. Returns the logits, a row of vocab_size per sequence.
  std::vector<float> step(const std::vector<std::vector<int32_t>>& chunks, const std::vector<size_t>& starts,
                          size_t tokens) {
    const PjrtExecutable executable =
        value_of(client_.compile(value_of(decoder_program(config_, {batch_, tokens, kCachePositions}, precision_))));
    std::vector<int32_t> ids(batch_ * tokens, 0), positions(batch_ * tokens, -1);
    for (size_t b = 0; b < chunks.size(); ++b) {
      for (size_t t = 0; t < chunks[b].size(); ++t) {
        ids[b * tokens + t] = chunks[b][t];
        positions[b * tokens + t] = static_cast<int32_t>(starts[b] + t);
      }
    }
    const std::vector<int64_t> dims{static_cast<int64_t>(batch_), static_cast<int64_t>(tokens)};
    const PjrtBuffer id_buffer = value_of(client_.buffer_from_host_i32(ids, dims, 0));
    const PjrtBuffer position_buffer = value_of(client_.buffer_from_host_i32(positions, dims, 0));
    std::vector<const PjrtBuffer*> arguments{&id_buffer, &position_buffer, &frequencies_[0]};
    for (const PjrtBuffer& cache : caches_) arguments.push_back(&cache);
    for (const PjrtBuffer& weight : weights_) arguments.push_back(&weight);
    std::vector<PjrtBuffer> outputs = value_of(executable.execute(arguments, 0));
    EXPECT_EQ(outputs.size(), 1 + caches_.size());
    std::vector<float> logits = value_of(outputs.at(0).to_host());
    caches_.clear();
    for (size_t i = 1; i < outputs.size(); ++i) caches_.push_back(std::move(outputs[i]));
    return logits;
  }

 private:
  const PjrtClient& client_;
  const model::DecoderConfig& config_;
  size_t batch_;
  WeightPrecision precision_;
  std::vector<PjrtBuffer> frequencies_;
  std::vector<PjrtBuffer> caches_;
  std::vector<PjrtBuffer> weights_;
};

// The CPU decoder over one paged cache, each sequence with blocks of its own.
class CpuDecoder {
 public:
  CpuDecoder(const std::string& name, size_t batch)
      : model_(value_of(decoder::DecoderModel::load(inferd::testing::tiny_decoder(name), {.threads = 1}))),
        cache_(model_.make_cache({kBlockTokens, batch * kCachePositions / kBlockTokens})),
        blocks_(batch * kCachePositions / kBlockTokens) {
    std::iota(blocks_.begin(), blocks_.end(), 0u);
  }

  // The last token's logits of each chunk, in a row of vocab_size per chunk (all of them non-empty).
  std::vector<float> step(const std::vector<std::vector<int32_t>>& chunks, const std::vector<size_t>& starts) {
    const size_t per_sequence = kCachePositions / kBlockTokens;
    generation::DecodeStep step;
    for (size_t b = 0; b < chunks.size(); ++b) {
      step.sequences.push_back(
          {chunks[b], starts[b], std::span<const uint32_t>(blocks_).subspan(b * per_sequence, per_sequence), true});
    }
    std::vector<float> logits(chunks.size() * model_.config().vocab_size);
    EXPECT_THAT(model_.forward(step, cache_, logits.data()), tpustack::testing::Succeeds());
    return logits;
  }

 private:
  decoder::DecoderModel model_;
  decoder::KvCache cache_;
  std::vector<uint32_t> blocks_;
};

class DecoderProgramTest : public FakePjrtTest {
 protected:
  void SetUp() override { INFERD_REQUIRE_TINY_DECODERS(); }

  // Two sequences, a prompt of 33 tokens (past Mistral's window of 32) and one of 8, side by side: the long prompt
  // in two chunks while the short one is prefilled and then decodes its first token, then both decode greedily.
  // Every row whose chunk ends a prompt or decodes is compared with the CPU decoder's logits.
  void expect_steps_match(const std::string& name, WeightPrecision precision, double min_cosine,
                          bool same_argmax) const {
    const model::DecoderWeights weights = load_weights(name);
    const size_t vocab = weights.config.vocab_size;
    ProgramDecoder program(client_, weights, 2, precision);
    CpuDecoder cpu(name, 2);
    const std::vector<int32_t> long_prompt = prompt(10), short_prompt = prompt(4);
    ASSERT_EQ(long_prompt.size(), 33u);
    ASSERT_EQ(short_prompt.size(), 8u);

    std::vector<size_t> starts{0, 0};
    std::vector<std::vector<int32_t>> chunks{{long_prompt.begin(), long_prompt.begin() + 20}, short_prompt};
    std::vector<bool> compared{false, true};
    for (size_t step = 0; step < 6; ++step) {
      const size_t tokens = step < 2 ? 20 : 1;
      const std::vector<float> actual = program.step(chunks, starts, tokens);
      const std::vector<float> expected = cpu.step(chunks, starts);
      ASSERT_EQ(actual.size(), 2 * vocab);
      std::vector<int32_t> next(2);
      for (size_t b = 0; b < 2; ++b) {
        const std::span<const float> cpu_row(expected.data() + b * vocab, vocab);
        const std::span<const float> program_row(actual.data() + b * vocab, vocab);
        next[b] = argmax(cpu_row);
        if (!compared[b]) continue;
        EXPECT_GE(inferd::testing::cosine(program_row, std::vector<double>(cpu_row.begin(), cpu_row.end())), min_cosine)
            << name << ", step " << step << ", sequence " << b;
        if (same_argmax) {
          EXPECT_EQ(argmax(program_row), next[b]) << name << ", step " << step << ", sequence " << b;
        }
      }
      for (size_t b = 0; b < 2; ++b) starts[b] += chunks[b].size();
      // The long prompt's rest, then every sequence one greedy token a step.
      chunks = step == 0 ? std::vector<std::vector<int32_t>>{{long_prompt.begin() + 20, long_prompt.end()}, {next[1]}}
                         : std::vector<std::vector<int32_t>>{{next[0]}, {next[1]}};
      compared = {true, true};
    }
  }

  PjrtPlugin plugin_ = value_of(PjrtPlugin::load(kFakePlugin));
  PjrtClient client_ = value_of(plugin_.create_client());
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

TEST_F(DecoderProgramTest, TheProgramIsDeterministicAndTakesCachesAndWeightsAsParameters) {
  const model::DecoderConfig qwen2 = load_weights("qwen2").config;
  const std::string f32 = value_of(decoder_program(qwen2, {2, 4, 16}, WeightPrecision::f32));
  EXPECT_EQ(f32, value_of(decoder_program(qwen2, {2, 4, 16}, WeightPrecision::f32)));
  const std::string kv = fmt::format("tensor<2x16x{}x{}xf32>", qwen2.num_kv_heads, qwen2.head_dim);
  EXPECT_THAT(f32, HasSubstr(fmt::format("func.func public @main(%token_ids: tensor<2x4xi32>, %positions: "
                                         "tensor<2x4xi32>, %rope_inverse_frequencies: tensor<{}xf32>, "
                                         "%layer0_keys: {}, %layer0_values: {}, %layer1_keys: ",
                                         qwen2.head_dim / 2, kv, kv)));
  EXPECT_THAT(f32, HasSubstr(fmt::format("-> (tensor<2x{}xf32>, {}, {}, {}, {})", qwen2.vocab_size, kv, kv, kv, kv)));
  EXPECT_THAT(f32, HasSubstr("precision = [HIGHEST, HIGHEST]"));  // the cache writes keep f32's digits
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
  EXPECT_THAT(value_of(decoder_program(gqa, {1, 1, 8}, WeightPrecision::bf16)),
              HasSubstr(fmt::format("%embed_tokens: tensor<{}x{}xbf16>", gqa.vocab_size, gqa.hidden_size)));
}

TEST_F(DecoderProgramTest, WhatCannotBeEmittedIsAnError) {
  model::DecoderWeights weights = load_weights("llama");
  const model::DecoderConfig& config = weights.config;
  EXPECT_THAT(decoder_program(config, {1, 1, 8}, WeightPrecision::i8),
              FailsWith(StartsWith("the PJRT decoder computes in f32 or bf16")));
  EXPECT_THAT(decoder_program(config, {1, 0, 8}, WeightPrecision::f32),
              FailsWith("a decoder bucket needs a batch, tokens and cache positions"));
  EXPECT_THAT(decoder_program(config, {1, 1, config.max_positions + 1}, WeightPrecision::f32),
              FailsWith(fmt::format("a cache of {} positions is longer than the model's {} positions",
                                    config.max_positions + 1, config.max_positions)));
  model::DecoderConfig uneven = config;
  uneven.num_kv_heads = 3;
  EXPECT_THAT(decoder_program(uneven, {1, 1, 8}, WeightPrecision::f32), FailsWith(HasSubstr("do not group evenly")));
  weights.layers[1].up.weight.pop_back();
  EXPECT_THAT(decoder_weight_values(weights),
              FailsWith(fmt::format("weight layer1_up_weight has {} values where its shape [{}, {}] needs {}",
                                    config.intermediate_size * config.hidden_size - 1, config.intermediate_size,
                                    config.hidden_size, config.intermediate_size * config.hidden_size)));
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
