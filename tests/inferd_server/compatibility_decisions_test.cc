// The pure decisions behind inferd's OpenAI and TEI compatibility: which model a request goes to, what its body
// means, how embeddings are cut and scored, and the error shapes clients parse.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "inferd/batching/batch_policy.h"
#include "inferd/model/model_card.h"
#include "inferd/server/embedding_output.h"
#include "inferd/server/error_reply.h"
#include "inferd/server/model_routing.h"
#include "inferd/server/predictions.h"
#include "inferd/server/truncation.h"
#include "inferd/server/wire_requests.h"

namespace tpustack::inferd::server {
namespace {

using nlohmann::json;

CatalogEntry embedder() { return {}; }

CatalogEntry classifier(size_t labels) {
  CatalogEntry entry;
  entry.reranker = true;
  entry.card.classifier = true;
  for (size_t i = 0; i < labels; ++i) entry.card.labels.push_back("LABEL_" + std::to_string(i));
  return entry;
}

const RequestError& error_of(const Result<ModelChoice, RequestError>& chosen) { return chosen.error(); }

TEST(ModelRouting, TheOnlyModelThatCanServeARouteIsItsDefault) {
  const ModelCatalog catalog{{"bge", embedder()}, {"ce", classifier(1)}};
  EXPECT_EQ(choose_model(catalog, std::nullopt, Task::embed).value().name, "bge");
  EXPECT_EQ(choose_model(catalog, std::nullopt, Task::rerank).value().name, "ce");
  EXPECT_EQ(choose_model(catalog, "", Task::predict).value().name, "ce");
}

TEST(ModelRouting, AnUnknownNameIsServedWithAWarningWhenOneModelCan) {
  const ModelCatalog catalog{{"bge", embedder()}, {"ce", classifier(1)}};
  const auto chosen = choose_model(catalog, "text-embedding-3-small", Task::embed).value();
  EXPECT_EQ(chosen.name, "bge");
  EXPECT_NE(chosen.warning.find("text-embedding-3-small"), std::string::npos) << chosen.warning;
  EXPECT_TRUE(choose_model(catalog, "bge", Task::embed).value().warning.empty());
}

TEST(ModelRouting, AmbiguityAndTheWrongTaskAreRefusedNamingTheModels) {
  const ModelCatalog catalog{{"a", embedder()}, {"b", embedder()}, {"c", classifier(3)}};
  const RequestError unnamed = error_of(choose_model(catalog, std::nullopt, Task::embed));
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_NE(unnamed.message.find("a, b"), std::string::npos) << unnamed.message;
  const RequestError unknown = error_of(choose_model(catalog, "nope", Task::embed));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.param, "model");
  EXPECT_EQ(error_of(choose_model(catalog, "a", Task::rerank)).status, 400);
  // A classifier of three labels predicts but is no reranker.
  EXPECT_NE(
      error_of(choose_model(catalog, std::nullopt, Task::rerank)).message.find("no model of this server can rerank"),
      std::string::npos);
  EXPECT_EQ(choose_model(catalog, std::nullopt, Task::predict).value().name, "c");
}

TEST(ModelRouting, ServedNamesAreAliasesOfTheirModel) {
  ModelCatalog catalog{{"bge", embedder()}, {"ce", classifier(1)}};
  ASSERT_TRUE(apply_served_names(catalog, {"text-embedding-3-small=bge"}));
  EXPECT_EQ(served_name(catalog, "bge"), "text-embedding-3-small");
  EXPECT_EQ(served_name(catalog, "ce"), "ce");
  EXPECT_EQ(choose_model(catalog, "text-embedding-3-small", Task::embed).value().name, "bge");
  EXPECT_FALSE(apply_served_names(catalog, {"alias"}));      // two models: say which
  EXPECT_FALSE(apply_served_names(catalog, {"ce=bge"}));     // another model's name
  EXPECT_FALSE(apply_served_names(catalog, {"x=missing"}));  // no such model
  ModelCatalog one{{"m", embedder()}};
  ASSERT_TRUE(apply_served_names(one, {"my-model"}));
  EXPECT_EQ(served_name(one, "m"), "my-model");
}

TEST(ModelRouting, PostRootServesTheModelsTask) {
  const ModelCatalog two{{"bge", embedder()}, {"ce", classifier(1)}};
  EXPECT_EQ(primary_model(two), "bge");
  EXPECT_EQ(task_of_root(two, std::nullopt, false), Task::embed);
  EXPECT_EQ(task_of_root(two, std::nullopt, true), Task::rerank);
  EXPECT_EQ(task_of_root(two, "ce", false), Task::predict);
  const ModelCatalog classifier_only{{"sst2", classifier(2)}};
  EXPECT_EQ(task_of_root(classifier_only, std::nullopt, false), Task::predict);
}

TEST(EmbeddingOutput, MatryoshkaKeepsTheFirstDimensionsThenRenormalises) {
  batching::Rows rows{4, {3, 4, 12, 0, 0, 1, 0, 0}};
  ASSERT_TRUE(check_dimensions(2, 4));
  keep_dimensions(rows, 2);
  l2_normalize(rows);
  EXPECT_EQ(rows.width, 2u);
  ASSERT_EQ(rows.values, (std::vector<float>{0.6f, 0.8f, 0, 1}));
  EXPECT_FALSE(check_dimensions(5, 4));
  EXPECT_NE(check_dimensions(5, 4).error().message.find("have 4"), std::string::npos);
  EXPECT_FALSE(check_dimensions(0, 4));
  EXPECT_TRUE(check_dimensions(std::nullopt, 4));
}

TEST(EmbeddingOutput, SimilarityIsTheCosineWithTheFirstRow) {
  const batching::Rows rows{2, {1, 0, 2, 0, 0, 3, 1, 1}};
  const auto scores = similarities_to_first(rows);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_FLOAT_EQ(scores[0], 1.0f);
  EXPECT_FLOAT_EQ(scores[1], 0.0f);
  EXPECT_NEAR(scores[2], std::sqrt(0.5), 1e-6);
}

TEST(Predictions, SoftmaxOrSigmoidUnlessRawBestFirst) {
  const std::vector<std::string> labels{"negative", "positive"};
  const std::vector<float> logits{0.0f, std::log(3.0f)};
  auto scored = predictions(logits, labels, false);
  ASSERT_EQ(scored.size(), 2u);
  EXPECT_EQ(scored[0].label, "positive");
  EXPECT_NEAR(scored[0].score, 0.75, 1e-6);
  EXPECT_NEAR(scored[1].score, 0.25, 1e-6);
  auto raw = predictions(logits, labels, true);
  EXPECT_NEAR(raw[0].score, std::log(3.0), 1e-6);
  const std::vector<float> one{0.0f};
  EXPECT_NEAR(predictions(one, {"LABEL_0"}, false)[0].score, 0.5, 1e-6);
}

TEST(Truncation, LeftKeepsTheFirstTokenAndTheEnd) {
  tokenizer::Encoding encoding{{2, 10, 11, 12, 13, 3}, {0, 0, 0, 0, 0, 0}};
  auto cut = keep_end(encoding, 4);
  EXPECT_EQ(cut.ids, (std::vector<tokenizer::TokenId>{2, 12, 13, 3}));
  EXPECT_EQ(cut.type_ids.size(), 4u);
  std::vector<tokenizer::TokenId> ids{1, 2, 3, 4, 5};
  cut_ids(ids, 3, TruncationDirection::left);
  EXPECT_EQ(ids, (std::vector<tokenizer::TokenId>{3, 4, 5}));
  ids = {1, 2, 3, 4, 5};
  cut_ids(ids, 3, TruncationDirection::right);
  EXPECT_EQ(ids, (std::vector<tokenizer::TokenId>{1, 2, 3}));
  EXPECT_EQ(*parse_truncation_direction("Left"), TruncationDirection::left);
  EXPECT_FALSE(parse_truncation_direction("Up"));
}

TEST(QueueAdmission, TooLargeForTheQueueIsNotTheSameAsFull) {
  const batching::QueueLimits limits(100, 1000);
  using batching::Admission;
  EXPECT_EQ(batching::admit({0, 0}, {10, 900}, limits), Admission::accepted);
  EXPECT_EQ(batching::admit({10, 500}, {10, 600}, limits), Admission::queue_full);
  EXPECT_EQ(batching::admit({95, 10}, {10, 10}, limits), Admission::queue_full);
  EXPECT_EQ(batching::admit({0, 0}, {10, 1001}, limits), Admission::too_large);
  EXPECT_EQ(batching::admit({0, 0}, {101, 10}, limits), Admission::too_large);
  EXPECT_EQ(batching::admit({5000, 0}, {10, 10}, batching::QueueLimits(0, 0)), Admission::accepted);
}

TEST(WireRequests, TeiOptionsOfTheWrongTypeAre422) {
  for (const json& body : {json{{"inputs", "x"}, {"normalize", "yes"}}, json{{"inputs", "x"}, {"truncate", 1}},
                           json{{"inputs", "x"}, {"dimensions", "8"}}, json{{"inputs", "x"}, {"dimensions", -1}},
                           json{{"inputs", "x"}, {"prompt_name", 3}},
                           json{{"inputs", "x"}, {"truncation_direction", "Up"}}, json{{"inputs", 5}}}) {
    auto parsed = tei_embed_request(body, true);
    ASSERT_TRUE(!parsed) << body;
    EXPECT_EQ(parsed.error().status, 422) << body;
  }
}

TEST(WireRequests, TeiDefaultsFollowAutoTruncate) {
  auto request = tei_embed_request({{"inputs", {"a", "b"}}}, true).value();
  EXPECT_TRUE(request.truncate);
  EXPECT_TRUE(request.normalize);
  EXPECT_FALSE(tei_embed_request({{"inputs", "a"}}, false).value().truncate);
  auto explicit_options = tei_embed_request({{"inputs", "a"},
                                             {"truncate", false},
                                             {"normalize", false},
                                             {"truncation_direction", "Left"},
                                             {"prompt_name", "query"},
                                             {"dimensions", 8},
                                             {"model", nullptr}},
                                            true)
                              .value();
  EXPECT_FALSE(explicit_options.truncate);
  EXPECT_FALSE(explicit_options.normalize);
  EXPECT_EQ(explicit_options.truncation_direction, TruncationDirection::left);
  EXPECT_EQ(explicit_options.prompt_name, "query");
  EXPECT_EQ(explicit_options.dimensions, 8u);
  EXPECT_FALSE(explicit_options.model);
}

TEST(WireRequests, OpenAiTakesTokenIdsAndBase64) {
  auto ids = openai_embed_request({{"input", {1, 2, 3}}, {"encoding_format", "base64"}}, true).value();
  EXPECT_TRUE(ids.base64);
  EXPECT_TRUE(ids.embed.inputs.empty());
  EXPECT_EQ(ids.embed.token_ids, (std::vector<std::vector<tokenizer::TokenId>>{{1, 2, 3}}));
  auto lists = openai_embed_request(json::parse(R"({"input": [[1, 2], [3]]})"), true).value();
  EXPECT_EQ(lists.embed.token_ids.size(), 2u);
  auto texts = openai_embed_request({{"input", {"a", "b"}}, {"dimensions", 16}, {"user", "u-1"}}, true).value();
  EXPECT_EQ(texts.embed.inputs.size(), 2u);
  EXPECT_EQ(texts.embed.dimensions, 16u);
  EXPECT_FALSE(texts.base64);
  EXPECT_EQ(openai_embed_request({{"input", "a"}, {"encoding_format", "int8"}}, true).error().param, "encoding_format");
  EXPECT_FALSE(openai_embed_request(json::parse(R"({"input": [1, "a"]})"), true).ok());
}

TEST(WireRequests, PredictInputsAreATextAPairOrAList) {
  auto single = tei_predict_request({{"inputs", "good"}}, true).value();
  EXPECT_FALSE(single.batch);
  EXPECT_EQ(single.predict.sequences, (std::vector<std::vector<std::string>>{{"good"}}));
  auto pair = tei_predict_request({{"inputs", {"a", "b"}}}, true).value();
  EXPECT_FALSE(pair.batch);
  EXPECT_EQ(pair.predict.sequences[0].size(), 2u);
  auto batch =
      tei_predict_request(json::parse(R"({"inputs": ["a", ["b", "c"], "d"], "raw_scores": true})"), true).value();
  EXPECT_TRUE(batch.batch);
  EXPECT_TRUE(batch.predict.raw_scores);
  EXPECT_EQ(batch.predict.sequences.size(), 3u);
  EXPECT_EQ(tei_predict_request({{"inputs", {1, 2}}}, true).error().status, 422);
}

TEST(WireRequests, SimilarityPutsTheSourceFirst) {
  const json body = json::parse(R"({"inputs": {"source_sentence": "s", "sentences": ["a", "b"]}})");
  EXPECT_TRUE(is_similarity_body(body));
  EXPECT_EQ(tei_similarity_request(body, true).value().inputs, (std::vector<std::string>{"s", "a", "b"}));
  EXPECT_FALSE(is_similarity_body({{"inputs", "x"}}));
  EXPECT_EQ(tei_similarity_request(json::parse(R"({"inputs": {"source_sentence": 1}})"), true).error().status, 422);
}

TEST(ErrorReply, OpenAiRoutesAnswerOpenAisErrorObject) {
  const ErrorBody body = error_body({404, "not_found", "no model named \"x\"", "model"}, ErrorShape::openai);
  const json error = json::parse(body.json)["error"];
  EXPECT_EQ(error["message"], "no model named \"x\"");
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_EQ(error["param"], "model");
  EXPECT_EQ(error["code"], "model_not_found");
  const json overloaded = json::parse(error_body({429, "overloaded", "full"}, ErrorShape::openai).json)["error"];
  EXPECT_EQ(overloaded["type"], "rate_limit_error");
  EXPECT_TRUE(overloaded["param"].is_null());
  EXPECT_EQ(json::parse(error_body({422, "validation", "bad"}, ErrorShape::tei).json),
            json({{"error", "bad"}, {"error_type", "validation"}}));
  EXPECT_EQ(shape_of("/v1/models/x"), ErrorShape::openai);
}

TEST(ModelCard, LabelsInIdOrderAndSentenceTransformersPrompts) {
  auto card = model::parse_model_config(
      R"({"architectures": ["BertForSequenceClassification"], "max_position_embeddings": 512,
          "id2label": {"10": "ten", "2": "two", "0": "zero"}})",
      "config.json");
  ASSERT_TRUE(card);
  EXPECT_TRUE(card->classifier);
  EXPECT_EQ(card->labels, (std::vector<std::string>{"zero", "two", "ten"}));
  EXPECT_EQ(card->max_input_length, 512u);
  ASSERT_TRUE(model::parse_prompts(R"({"prompts": {"query": "query: ", "passage": "passage: "},
                                       "default_prompt_name": "passage"})",
                                   "config_sentence_transformers.json", *card));
  EXPECT_EQ(*model::prompt_text(*card, std::nullopt), "passage: ");
  EXPECT_EQ(*model::prompt_text(*card, "query"), "query: ");
  auto unknown = model::prompt_text(*card, "document");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("passage, query"), std::string::npos) << unknown.error().message;
  EXPECT_EQ(*model::prompt_text(model::ModelCard{}, std::nullopt), "");
  EXPECT_FALSE(model::parse_model_config("[", "config.json"));
}

}  // namespace
}  // namespace tpustack::inferd::server
