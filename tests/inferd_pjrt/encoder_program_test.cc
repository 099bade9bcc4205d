// The BERT encoder emitted as StableHLO (inferd/engine/pjrt/encoder_program.h), compiled and run through inferd's
// PJRT client on the fake plugin with its weights uploaded as buffers, against the CPU backend on the same tiny
// models and padded batches.

#include "inferd/engine/pjrt/encoder_program.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inferd/engine/cpu/cpu_backend.h"
#include "inferd/engine/pjrt/pjrt_plugin.h"
#include "tests/inferd/cosine.h"
#include "tests/inferd/tiny_models.h"
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

// Four sentence pairs (two token types, 10 to 44 tokens) and two short single sentences, from the tiny goldens.
TokenBatch mixed_batch() {
  TokenBatch batch;
  for (const auto& pair : inferd::testing::tiny_golden()["pairs"]) {
    batch.add(pair["ids"].get<std::vector<int32_t>>(), pair["type_ids"].get<std::vector<int32_t>>());
  }
  for (size_t i = 0; i < 2; ++i) {
    const auto ids = inferd::testing::tiny_golden()["sequences"][i].get<std::vector<int32_t>>();
    batch.add(ids, std::vector<int32_t>(ids.size(), 0));
  }
  return batch;
}

constexpr EncoderBucket kBucket{6, 48};  // mixed_batch() exactly, every sequence but the longest padded

std::shared_ptr<model::BertWeights> load_weights(const std::string& name) {
  return std::make_shared<model::BertWeights>(
      value_of(model::load_model_directory(inferd::testing::tiny_model(name))).weights);
}

std::vector<float> row(const std::vector<float>& rows, size_t width, size_t i) {
  return {rows.begin() + static_cast<std::ptrdiff_t>(i * width),
          rows.begin() + static_cast<std::ptrdiff_t>((i + 1) * width)};
}

class EncoderProgramTest : public FakePjrtTest {
 protected:
  void SetUp() override { INFERD_REQUIRE_TINY_MODELS(); }

  // The head's output for `batch` (rows of `width`), from the program for `bucket` run on fake device 0.
  std::vector<float> run_program(const model::BertWeights& weights, const TokenBatch& batch, EncoderBucket bucket,
                                 const EncoderHead& head, WeightPrecision precision) const {
    const PjrtExecutable executable =
        value_of(client_.compile(value_of(encoder_program(weights.config, bucket, head, precision))));
    const auto b = static_cast<int64_t>(bucket.batch), s = static_cast<int64_t>(bucket.sequence);
    std::vector<int32_t> ids(b * s, 0), type_ids(b * s, 0);
    std::vector<float> mask(b * s, 0.0f);
    for (size_t i = 0; i < batch.size(); ++i) {
      for (size_t t = 0; t < batch.length(i); ++t) {
        ids[i * s + t] = batch.ids[batch.offsets[i] + t];
        type_ids[i * s + t] = batch.type_ids[batch.offsets[i] + t];
        mask[i * s + t] = 1.0f;
      }
    }
    std::vector<PjrtBuffer> buffers;
    buffers.push_back(value_of(client_.buffer_from_host_i32(ids, {b, s}, 0)));
    buffers.push_back(value_of(client_.buffer_from_host_i32(type_ids, {b, s}, 0)));
    buffers.push_back(value_of(client_.buffer_from_host(mask, {b, s}, 0)));
    for (PjrtBuffer& weight : upload_weights(client_, encoder_parameters(weights.config, head),
                                             value_of(encoder_weight_values(weights, head)), precision)) {
      buffers.push_back(std::move(weight));
    }
    std::vector<const PjrtBuffer*> arguments;
    for (const PjrtBuffer& buffer : buffers) arguments.push_back(&buffer);
    std::vector<PjrtBuffer> outputs = value_of(executable.execute(arguments, 0));
    EXPECT_EQ(outputs.size(), 1u);
    std::vector<float> result = value_of(outputs.at(0).to_host());
    const size_t width = result.size() / bucket.batch;
    result.resize(batch.size() * width);  // the padding rows' are of no use
    return result;
  }

  static std::vector<float> cpu_output(std::shared_ptr<const model::BertWeights> weights, const TokenBatch& batch,
                                       const EncoderHead& head) {
    auto backend =
        value_of(cpu::make_cpu_backend(std::move(weights), {.threads = 1, .precision = WeightPrecision::f32}));
    if (const auto* embedding = std::get_if<EmbeddingHead>(&head)) {
      return value_of(backend->embed(batch, embedding->pooling, embedding->normalize));
    }
    return value_of(backend->classify(batch));
  }

  // Every row of the program's embeddings within `min_cosine` of the f32 CPU backend's.
  void expect_embeddings_match(std::shared_ptr<const model::BertWeights> weights, const EmbeddingHead& head,
                               WeightPrecision precision, double min_cosine) const {
    const TokenBatch batch = mixed_batch();
    const std::vector<float> actual = run_program(*weights, batch, kBucket, head, precision);
    const std::vector<float> expected = cpu_output(weights, batch, head);
    ASSERT_EQ(actual.size(), expected.size());
    const size_t h = weights->config.hidden_size;
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::vector<float> cpu_row = row(expected, h, i);
      const std::vector<float> program_row = row(actual, h, i);
      EXPECT_GE(inferd::testing::cosine(program_row, std::vector<double>(cpu_row.begin(), cpu_row.end())), min_cosine)
          << "sequence " << i << " (" << batch.length(i) << " tokens), pooling "
          << (head.pooling == model::Pooling::cls ? "cls" : "mean") << (head.normalize ? ", normalised" : "");
      if (head.normalize) {
        double norm = 0;
        for (float v : program_row) norm += double(v) * v;
        EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5) << "sequence " << i;
      }
    }
  }

  PjrtPlugin plugin_ = value_of(PjrtPlugin::load(kFakePlugin));
  PjrtClient client_ = value_of(plugin_.create_client());
};

TEST_F(EncoderProgramTest, EmbeddingsMatchTheCpuBackendForEitherPoolingNormalisedOrNot) {
  const auto weights = load_weights("f32-mean");
  for (model::Pooling pooling : {model::Pooling::cls, model::Pooling::mean}) {
    for (bool normalize : {false, true}) {
      expect_embeddings_match(weights, EmbeddingHead{pooling, normalize}, WeightPrecision::f32, 0.99999);
    }
  }
}

TEST_F(EncoderProgramTest, TheActivationIsTheConfigs) {
  for (model::Activation activation : {model::Activation::gelu_tanh, model::Activation::relu}) {
    auto weights = load_weights("f32-mean");
    weights->config.activation = activation;
    expect_embeddings_match(weights, EmbeddingHead{model::Pooling::mean, true}, WeightPrecision::f32, 0.99999);
  }
}

TEST_F(EncoderProgramTest, ClassifierLogitsMatchTheCpuBackend) {
  const auto weights = load_weights("cross-encoder");
  const TokenBatch batch = mixed_batch();
  const std::vector<float> actual = run_program(*weights, batch, kBucket, ClassifierHead{}, WeightPrecision::f32);
  const std::vector<float> expected = cpu_output(weights, batch, ClassifierHead{});
  ASSERT_EQ(actual.size(), batch.size() * weights->config.num_labels);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-4) << "logit " << i;
}

TEST_F(EncoderProgramTest, Bfloat16WeightsAndProductsStayCloseToTheFloat32CpuBackend) {
  const auto weights = load_weights("f32-mean");
  for (model::Pooling pooling : {model::Pooling::cls, model::Pooling::mean}) {
    expect_embeddings_match(weights, EmbeddingHead{pooling, true}, WeightPrecision::bf16, 0.999);
  }
  const auto cross = load_weights("cross-encoder");
  const TokenBatch batch = mixed_batch();
  const std::vector<float> actual = run_program(*cross, batch, kBucket, ClassifierHead{}, WeightPrecision::bf16);
  const std::vector<float> expected = cpu_output(cross, batch, ClassifierHead{});
  // bf16 keeps 8 bits of each product operand: the logits (about -0.3 to -2.6 here) move by 1 % or so.
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 0.05) << "logit " << i;
}

TEST_F(EncoderProgramTest, PaddingRowsAndPositionsDoNotChangeTheRealRows) {
  const auto weights = load_weights("f32-mean");
  const TokenBatch batch = mixed_batch();
  for (const EncoderHead& head : {EncoderHead{EmbeddingHead{model::Pooling::mean, true}},
                                  EncoderHead{EmbeddingHead{model::Pooling::cls, false}}}) {
    const std::vector<float> exact = run_program(*weights, batch, kBucket, head, WeightPrecision::f32);
    const std::vector<float> padded = run_program(*weights, batch, {9, 64}, head, WeightPrecision::f32);
    ASSERT_EQ(padded.size(), exact.size());
    for (size_t i = 0; i < exact.size(); ++i) EXPECT_NEAR(padded[i], exact[i], 1e-6) << "element " << i;
  }
}

TEST_F(EncoderProgramTest, TheProgramIsDeterministicAndTakesEveryWeightAsAParameter) {
  const auto weights = load_weights("cross-encoder");
  const model::BertConfig& config = weights->config;
  const std::string f32 = value_of(encoder_program(config, {2, 8}, ClassifierHead{}, WeightPrecision::f32));
  EXPECT_EQ(f32, value_of(encoder_program(config, {2, 8}, ClassifierHead{}, WeightPrecision::f32)));
  EXPECT_THAT(f32, HasSubstr("func.func public @main(%input_ids: tensor<2x8xi32>, %token_type_ids: tensor<2x8xi32>, "
                             "%attention_mask: tensor<2x8xf32>, %word_embeddings: tensor<128x32xf32>, "
                             "%position_embeddings: tensor<64x32xf32>, %token_type_embeddings: tensor<2x32xf32>, "));
  EXPECT_THAT(f32, HasSubstr("%classifier_bias: tensor<1xf32>) -> (tensor<2x1xf32>)"));
  // Constants are splats only, and nothing outside StableHLO (chlo.erf) appears.
  EXPECT_THAT(f32, Not(HasSubstr("dense<[")));
  EXPECT_THAT(f32, Not(HasSubstr("chlo.")));

  const std::string bf16 = value_of(encoder_program(config, {2, 8}, ClassifierHead{}, WeightPrecision::bf16));
  EXPECT_THAT(bf16, HasSubstr("%word_embeddings: tensor<128x32xbf16>"));
  EXPECT_THAT(bf16, HasSubstr("(tensor<2x8x32xbf16>, tensor<32x32xbf16>) -> tensor<2x8x32xf32>"));

  const std::vector<EncoderParameter> parameters = encoder_parameters(config, ClassifierHead{});
  ASSERT_EQ(parameters.size(), 5 + 16 * config.num_layers + 4);
  EXPECT_EQ(parameters[5].name, "layer0_query_weight");
  EXPECT_EQ(parameters[5].dims, (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(parameters.back().name, "classifier_bias");
  EXPECT_EQ(encoder_parameters(config, EmbeddingHead{}).size(), parameters.size() - 4);
}

TEST_F(EncoderProgramTest, WhatCannotBeEmittedIsAnError) {
  const auto embedder = load_weights("f32-mean");
  const model::BertConfig& config = embedder->config;
  EXPECT_THAT(encoder_program(config, {1, 8}, EmbeddingHead{}, WeightPrecision::i8),
              FailsWith(StartsWith("the PJRT encoder computes in f32 or bf16")));
  EXPECT_THAT(encoder_program(config, {1, 65}, EmbeddingHead{}, WeightPrecision::f32),
              FailsWith("a bucket of 65 tokens is longer than the model's 64 positions"));
  EXPECT_THAT(encoder_program(config, {0, 8}, EmbeddingHead{}, WeightPrecision::f32),
              FailsWith("an encoder bucket needs a batch and a sequence length"));
  EXPECT_THAT(encoder_program(config, {1, 8}, ClassifierHead{}, WeightPrecision::f32),
              FailsWith("the model has no sequence-classification head to classify with"));
  EXPECT_THAT(encoder_weight_values(*embedder, ClassifierHead{}),
              FailsWith("the model has no pooler and classifier weights to classify with"));
  model::BertWeights truncated = *embedder;
  truncated.layers[1].intermediate.bias.pop_back();
  EXPECT_THAT(encoder_weight_values(truncated, EmbeddingHead{}),
              FailsWith("weight layer1_intermediate_bias has 63 values where its shape [64] needs 64"));
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
