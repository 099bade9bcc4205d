#include "inferd/encoder/encoder_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "inferd/engine/cpu/linear.h"
#include "inferd/engine/variant_choice.h"

#include "tests/inferd/cosine.h"
#include "tests/inferd/tiny_models.h"

namespace tpustack::inferd {
namespace {

using testing::cosine;
using testing::tiny_golden;
using testing::tiny_model;

std::vector<tokenizer::Encoding> golden_sequences() {
  std::vector<tokenizer::Encoding> encodings;
  for (const auto& ids : tiny_golden()["sequences"]) {
    auto values = ids.get<std::vector<int32_t>>();
    encodings.push_back({values, std::vector<int32_t>(values.size(), 0)});
  }
  return encodings;
}

std::vector<tokenizer::Encoding> golden_pairs() {
  std::vector<tokenizer::Encoding> encodings;
  for (const auto& pair : tiny_golden()["pairs"]) {
    encodings.push_back({pair["ids"].get<std::vector<int32_t>>(), pair["type_ids"].get<std::vector<int32_t>>()});
  }
  return encodings;
}

// The variants this CPU runs: bf16 only where it multiplies bf16 itself.
std::vector<engine::WeightPrecision> precisions_here() {
  std::vector precisions{engine::WeightPrecision::f32, engine::WeightPrecision::i8};
  if (engine::cpu::has_native_bf16()) precisions.push_back(engine::WeightPrecision::bf16);
  return precisions;
}

EncoderModel load(const std::string& name, LoadOptions options = {}) {
  auto model = EncoderModel::load(tiny_model(name), options);
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  return std::move(model).value();
}

void expect_matches_golden(const std::string& name, LoadOptions options, double min_cosine) {
  EncoderModel model = load(name, options);
  auto embeddings = model.embed(golden_sequences());
  ASSERT_TRUE(embeddings.ok()) << embeddings.error().message;
  const auto& expected = tiny_golden()["models"][name];
  ASSERT_EQ(embeddings->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_GE(cosine(embeddings->row(i), expected[i].get<std::vector<double>>()), min_cosine)
        << name << " sequence " << i;
  }
}

TEST(EncoderModel, Fp32EmbeddingsMatchTheNumpyReferenceForEveryStoredDtype) {
  INFERD_REQUIRE_TINY_MODELS();
  for (const char* name : {"f32-mean", "f16-cls", "bf16-mean"}) expect_matches_golden(name, {}, 0.99999);
}

TEST(EncoderModel, TwoThreadsGiveTheSameEmbeddingsAsTheReference) {
  INFERD_REQUIRE_TINY_MODELS();
  expect_matches_golden("f32-mean", {2, engine::WeightPrecision::f32}, 0.99999);
}

TEST(EncoderModel, Int8EmbeddingsStayCloseToTheReference) {
  INFERD_REQUIRE_TINY_MODELS();
  for (const char* name : {"f32-mean", "f16-cls"}) expect_matches_golden(name, {1, engine::WeightPrecision::i8}, 0.995);
}

TEST(EncoderModel, Bf16EmbeddingsStayCloseToTheReference) {
  INFERD_REQUIRE_TINY_MODELS();
  if (!engine::cpu::has_native_bf16()) GTEST_SKIP() << "no bf16 products on this CPU";
  for (const char* name : {"f32-mean", "f16-cls"})
    expect_matches_golden(name, {2, engine::WeightPrecision::bf16}, 0.999);
}

TEST(EncoderModel, Bf16WithoutBf16ProductsIsAnErrorNamingTheCpu) {
  INFERD_REQUIRE_TINY_MODELS();
  if (engine::cpu::has_native_bf16()) GTEST_SKIP() << "this CPU multiplies bf16 (ctest also runs this as AVX2)";
  auto model = EncoderModel::load(tiny_model("f32-mean"), {1, engine::WeightPrecision::bf16});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find(engine::cpu::cpu_isa_name()), std::string::npos) << model.error().message;
}

// Whatever `--variant auto` picks on this CPU meets the accuracy bar it was picked under, and says what it runs on.
TEST(EncoderModel, AutoPicksAVariantThatMeetsItsBar) {
  INFERD_REQUIRE_TINY_MODELS();
  const EncoderModel model = load("f32-mean", {2, std::nullopt});
  expect_matches_golden("f32-mean", {2, model.precision()}, engine::accuracy_bar(model.precision()));
  EXPECT_NE(model.kernel().find(' '), std::string::npos) << model.kernel();  // "<isa> <oneDNN kernel>"
}

TEST(EncoderModel, NormalizedModelsReturnUnitVectors) {
  INFERD_REQUIRE_TINY_MODELS();
  auto embeddings = load("f32-mean").embed(golden_sequences());
  ASSERT_TRUE(embeddings.ok());
  for (size_t i = 0; i < embeddings->size(); ++i) {
    double norm = 0;
    for (float v : embeddings->row(i)) norm += double(v) * v;
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5);
  }
}

TEST(EncoderModel, RerankScoresMatchTheReferenceWithin1e4) {
  INFERD_REQUIRE_TINY_MODELS();
  EncoderModel model = load("cross-encoder");
  EXPECT_EQ(model.kind(), ModelKind::reranker);
  auto scores = model.rerank(golden_pairs());
  ASSERT_TRUE(scores.ok()) << scores.error().message;
  const auto& expected = tiny_golden()["models"]["cross-encoder"];
  ASSERT_EQ(scores->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR((*scores)[i], expected[i][0].get<double>(), 1e-4);
}

TEST(EncoderModel, BatchResultsEqualOneAtATime) {
  INFERD_REQUIRE_TINY_MODELS();
  for (auto precision : precisions_here()) {
    EncoderModel model = load("f32-mean", {2, precision});
    auto sequences = golden_sequences();
    auto together = model.embed(sequences);
    ASSERT_TRUE(together.ok());
    for (size_t i = 0; i < sequences.size(); ++i) {
      auto alone = model.embed(std::vector{sequences[i]});
      ASSERT_TRUE(alone.ok());
      for (size_t c = 0; c < model.dimensions(); ++c) {
        EXPECT_NEAR(alone->row(0)[c], together->row(i)[c], 1e-6) << "sequence " << i << " value " << c;
      }
    }
  }
}

// Each thread takes a share of the batch's token rows; with more threads than tokens some get none.
TEST(EncoderModel, MoreThreadsThanTokensGiveTheSameEmbeddings) {
  INFERD_REQUIRE_TINY_MODELS();
  for (auto precision : precisions_here()) {
    const std::vector<tokenizer::Encoding> short_sequences{{{2, 3}, {0, 0}}, {{2, 7, 3}, {0, 0, 0}}};
    auto one = load("f32-mean", {1, precision}).embed(short_sequences);
    auto eight = load("f32-mean", {8, precision}).embed(short_sequences);
    ASSERT_TRUE(one.ok() && eight.ok());
    for (size_t i = 0; i < one->values.size(); ++i) EXPECT_NEAR(one->values[i], eight->values[i], 1e-6) << i;
  }
}

// Two threads split a batch by rows, in blocks of 128 after attention: small and large batches give what one
// thread gives.
TEST(EncoderModel, TwoThreadsGiveOneThreadsEmbeddingsForSmallAndLargeBatches) {
  INFERD_REQUIRE_TINY_MODELS();
  for (auto precision : precisions_here()) {
    EncoderModel one = load("f32-mean", {1, precision}), two = load("f32-mean", {2, precision});
    for (size_t sequences : {3, 40}) {  // 27 and 360 tokens: the latter more than a block per thread
      std::vector<tokenizer::Encoding> batch;
      for (size_t s = 0; s < sequences; ++s) {
        std::vector<int32_t> ids{2};
        for (int32_t t = 0; t < 7; ++t) ids.push_back(static_cast<int32_t>(5 + (s * 7 + t) % 40));
        ids.push_back(3);
        batch.push_back({ids, std::vector<int32_t>(ids.size(), 0)});
      }
      auto serial = one.embed(batch), parallel = two.embed(batch);
      ASSERT_TRUE(serial.ok() && parallel.ok());
      for (size_t i = 0; i < serial->values.size(); ++i) {
        ASSERT_NEAR(serial->values[i], parallel->values[i], 1e-5)
            << engine::precision_name(precision) << " " << sequences << " sequences, value " << i;
      }
    }
  }
}

TEST(EncoderModel, TextsAreTokenizedWithTheModelsTokenizer) {
  INFERD_REQUIRE_TINY_MODELS();
  EncoderModel model = load("f32-mean");
  auto encoding = model.tokenize("The quick brown fox!");
  ASSERT_TRUE(encoding.ok());
  EXPECT_EQ(encoding->ids.size(), 7u);  // [CLS] the quick brown fox ! [SEP]
  auto from_text = model.embed(std::vector<std::string>{"The quick brown fox!"});
  auto from_ids = model.embed(std::vector{*encoding});
  ASSERT_TRUE(from_text.ok() && from_ids.ok());
  EXPECT_EQ(from_text->values, from_ids->values);
}

TEST(EncoderModel, LongTextsAreTruncatedToTheModelsMaximum) {
  INFERD_REQUIRE_TINY_MODELS();
  EncoderModel model = load("f32-mean");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "fox ";
  auto encoding = model.tokenize(text);
  ASSERT_TRUE(encoding.ok());
  EXPECT_EQ(encoding->ids.size(), model.max_length());
  EXPECT_TRUE(model.embed(std::vector{text}).ok());
}

TEST(EncoderModel, BadInputsAreErrorValues) {
  INFERD_REQUIRE_TINY_MODELS();
  EncoderModel model = load("f32-mean");
  auto invalid_utf8 = model.embed(std::vector<std::string>{"fine", "bad \xff byte"});
  ASSERT_FALSE(invalid_utf8.ok());
  EXPECT_NE(invalid_utf8.error().message.find("text 1"), std::string::npos);
  auto bad_id = model.embed(std::vector<tokenizer::Encoding>{{{2, 100000, 3}, {0, 0, 0}}});
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.error().message.find("100000"), std::string::npos);
  auto too_long =
      model.embed(std::vector<tokenizer::Encoding>{{std::vector<int32_t>(65, 5), std::vector<int32_t>(65, 0)}});
  EXPECT_FALSE(too_long.ok());
  auto rerank = model.rerank("query", {"document"});
  ASSERT_FALSE(rerank.ok());
  EXPECT_NE(rerank.error().message.find("cross-encoder"), std::string::npos);
}

TEST(EncoderModel, RerankingTextPairsUsesSegmentTypeIds) {
  INFERD_REQUIRE_TINY_MODELS();
  EncoderModel model = load("cross-encoder");
  auto scores = model.rerank("what is a fox?", {"the quick brown fox", "a lazy dog", ""});
  ASSERT_TRUE(scores.ok()) << scores.error().message;
  EXPECT_EQ(scores->size(), 3u);
  EXPECT_NE((*scores)[0], (*scores)[1]);
}

}  // namespace
}  // namespace tpustack::inferd
