// inferd as OpenAI's and Hugging Face TEI's clients use it, on a real `inferd serve` over the tiny models: the
// fields those clients send (dimensions, token ids, base64, 2,048 inputs, prompt_name, truncation_direction,
// normalize), the routes they call (POST /, /similarity, /predict, /v1/models/{id}, /info) and the errors they parse.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "served_inferd.h"
#include "tests/support/required_tool.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string words(size_t count, const std::string& first = "quick") {
  std::string text = first;
  for (size_t i = 1; i < count; ++i) text += i % 2 ? " lazy" : " dog";
  return text;
}

double norm(const json& vector) {
  double sum = 0;
  for (double v : vector) sum += v * v;
  return std::sqrt(sum);
}

void expect_close(const json& a, const json& b, double tolerance = 1e-5) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i].get<double>(), b[i].get<double>(), tolerance) << i;
}

// `body` posted to `path`, expecting `expected_status`; the answer as JSON (discarded when it is not JSON).
json post_for_json(ServedInferd& server, const std::string& path, const json& body, int expected_status = 200) {
  HttpResult result = server.post(path, body.dump());
  EXPECT_EQ(result.status, expected_status) << path << " " << body << " -> " << result.body;
  return json::parse(result.body, nullptr, false);
}

// An embedder and a reranker: the two-model server TEI's and OpenAI's clients meet. One for the whole suite.
class Compatibility : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string models = ServedInferd::tiny_models();
    if (models.empty()) return;
    server_ = std::make_unique<ServedInferd>(
        std::vector<std::string>{"--model", "e=" + models + "/f32-mean", "--model", "r=" + models + "/cross-encoder",
                                 "--preload", "e,r", "--threads", "1", "--served-model-name", "bge-tiny=e"});
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { TPUSTACK_REQUIRE_SETUP(server_, "python3-numpy (it writes the tiny models)"); }
  static json post_json(const std::string& path, const json& body, int expected_status = 200) {
    return post_for_json(*server_, path, body, expected_status);
  }
  static inline std::unique_ptr<ServedInferd> server_;
};

TEST_F(Compatibility, OpenAiDimensionsTruncateThenRenormalise) {
  json full = post_json("/v1/embeddings", {{"input", "hello world"}, {"model", "bge-tiny"}});
  json cut = post_json("/v1/embeddings", {{"input", "hello world"}, {"model", "bge-tiny"}, {"dimensions", 8}});
  const json& vector = cut["data"][0]["embedding"];
  ASSERT_EQ(vector.size(), 8u);
  EXPECT_NEAR(norm(vector), 1.0, 1e-5);
  // The same direction as the first 8 values of the full vector.
  json head(std::vector<double>(full["data"][0]["embedding"].begin(), full["data"][0]["embedding"].begin() + 8));
  const double scale = norm(head);
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(vector[i].get<double>(), head[i].get<double>() / scale, 1e-5);
  EXPECT_EQ(cut["model"], "bge-tiny");

  json refused = post_json("/v1/embeddings", {{"input", "x"}, {"dimensions", 33}}, 400);
  EXPECT_EQ(refused["error"]["type"], "invalid_request_error") << refused;
  EXPECT_EQ(refused["error"]["param"], "dimensions");
  EXPECT_TRUE(refused["error"].contains("code"));
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("32"), std::string::npos);
  EXPECT_EQ(post_json("/embed", {{"inputs", "x"}, {"dimensions", 4}})[0].size(), 4u);  // TEI's field too
}

TEST_F(Compatibility, OpenAiTakesTokenIdsAsTheModelsOwn) {
  json tokens = post_json("/tokenize", {{"inputs", "hello world"}});
  std::vector<int> ids;
  for (const json& token : tokens[0]) ids.push_back(token["id"]);
  json by_text = post_json("/v1/embeddings", {{"input", "hello world"}});
  json by_ids = post_json("/v1/embeddings", {{"input", ids}});
  expect_close(by_ids["data"][0]["embedding"], by_text["data"][0]["embedding"]);
  json lists = post_json("/v1/embeddings", {{"input", {ids, std::vector<int>{ids.front(), ids.back()}}}});
  EXPECT_EQ(lists["data"].size(), 2u);
  json outside = post_json("/v1/embeddings", {{"input", {2, 100000, 3}}}, 400);
  EXPECT_NE(outside["error"]["message"].get<std::string>().find("100000"), std::string::npos) << outside;
}

TEST_F(Compatibility, OpenAiTakes2048InputsAndBatchesThemInside) {
  // LangChain's default chunk is 512 inputs; --max-client-batch-size is 64 here.
  json many = post_json("/v1/embeddings", {{"input", std::vector<std::string>(600, "the lazy dog")}});
  ASSERT_EQ(many["data"].size(), 600u);
  EXPECT_EQ(many["data"][599]["index"], 599);
  expect_close(many["data"][599]["embedding"], many["data"][0]["embedding"]);
  json too_many = post_json("/v1/embeddings", {{"input", std::vector<std::string>(2049, "a")}}, 413);
  EXPECT_EQ(too_many["error"]["type"], "invalid_request_error") << too_many;
  // TEI's routes keep --max-client-batch-size, with TEI's 413.
  EXPECT_EQ(server_->post("/embed", json({{"inputs", std::vector<std::string>(65, "a")}}).dump()).status, 413);
}

TEST_F(Compatibility, AnyModelNameReachesTheOnlyEmbedderWithAWarning) {
  json answered = post_json("/v1/embeddings", {{"input", "hello"}, {"model", "text-embedding-3-small"}});
  EXPECT_EQ(answered["model"], "bge-tiny");
  EXPECT_TRUE(server_->process().wait_for_output("no model named \"text-embedding-3-small\"", 5s))
      << server_->process().output();
  EXPECT_EQ(post_json("/embed", {{"inputs", "x"}, {"model", "e"}}).size(), 1u);  // the catalog name still serves
}

TEST_F(Compatibility, OpenAiModelsByIdInOpenAisShapes) {
  json model = json::parse(server_->get("/v1/models/bge-tiny").body);
  EXPECT_EQ(model["id"], "bge-tiny");
  EXPECT_EQ(model["object"], "model");
  EXPECT_TRUE(model.contains("owned_by"));
  HttpResult missing = server_->get("/v1/models/gpt-4");
  EXPECT_EQ(missing.status, 404);
  json error = json::parse(missing.body)["error"];
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_EQ(error["code"], "model_not_found");
  json list = json::parse(server_->get("/v1/models").body);
  EXPECT_EQ(list["data"][0]["id"], "bge-tiny");
}

TEST_F(Compatibility, PostRootServesEachRequestsTaskWithTwoModels) {
  json vectors = post_json("/", {{"inputs", {"hello", "world"}}});
  ASSERT_EQ(vectors.size(), 2u);
  EXPECT_EQ(vectors[0].size(), 32u);
  json ranked = post_json("/", {{"query", "a cat"}, {"texts", {"cats", "dogs"}}});
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_TRUE(ranked[0].contains("index"));
  json similar = post_json("/", {{"inputs", {{"source_sentence", "a cat"}, {"sentences", {"a cat", "fast engines"}}}}});
  ASSERT_EQ(similar.size(), 2u);
  EXPECT_NEAR(similar[0].get<double>(), 1.0, 1e-5);
  EXPECT_LT(similar[1].get<double>(), similar[0].get<double>());
  // The routes find their one model without "model".
  EXPECT_EQ(post_json("/embed", {{"inputs", "x"}}).size(), 1u);
  EXPECT_EQ(post_json("/rerank", {{"query", "q"}, {"texts", {"a"}}}).size(), 1u);
  EXPECT_EQ(post_json("/similarity", {{"inputs", {{"source_sentence", "x"}, {"sentences", {"y"}}}}}).size(), 1u);
  EXPECT_EQ(server_->get("/").status, 200);  // TEI's GET / is a health check
}

TEST_F(Compatibility, NormalizeFalseGivesThePooledVector) {
  json raw = post_json("/embed", {{"inputs", "hello world"}, {"normalize", false}});
  json unit = post_json("/embed", {{"inputs", "hello world"}});
  EXPECT_NEAR(norm(unit[0]), 1.0, 1e-5);
  EXPECT_GT(std::abs(norm(raw[0]) - 1.0), 1e-3) << "the tiny model's Normalize module must not apply";
  const double scale = norm(raw[0]);
  for (size_t i = 0; i < 32; ++i) EXPECT_NEAR(raw[0][i].get<double>() / scale, unit[0][i].get<double>(), 1e-5);
}

TEST_F(Compatibility, TruncationFollowsAutoTruncateAndItsDirection) {
  // The tiny models take 64 tokens; TEI's --auto-truncate default is on.
  json right = post_json("/embed", {{"inputs", words(100, "fox")}});
  json left = post_json("/embed", {{"inputs", words(100, "fox")}, {"truncation_direction", "Left"}});
  double difference = 0;
  for (size_t i = 0; i < 32; ++i) difference += std::abs(right[0][i].get<double>() - left[0][i].get<double>());
  EXPECT_GT(difference, 1e-3) << "Left keeps the end of the text, Right its start";
  EXPECT_EQ(server_->post("/embed", json({{"inputs", words(100)}, {"truncate", false}}).dump()).status, 422);
}

TEST_F(Compatibility, WrongOptionTypesAre422) {
  for (const json& body : {json{{"inputs", "x"}, {"normalize", "false"}}, json{{"inputs", "x"}, {"truncate", 1}},
                           json{{"inputs", "x"}, {"truncation_direction", "Up"}}}) {
    HttpResult refused = server_->post("/embed", body.dump());
    EXPECT_EQ(refused.status, 422) << body << " " << refused.body;
    EXPECT_EQ(json::parse(refused.body)["error_type"], "validation");
  }
  EXPECT_EQ(server_->post("/rerank", json({{"query", "q"}, {"texts", {"a"}}, {"raw_scores", "yes"}}).dump()).status,
            422);
}

TEST_F(Compatibility, InfoHasEveryFieldTeiMarksRequired) {
  json info = json::parse(server_->get("/info").body);
  for (const char* field :
       {"model_id", "model_dtype", "model_type", "max_concurrent_requests", "max_input_length", "max_batch_tokens",
        "max_client_batch_size", "auto_truncate", "tokenization_workers", "version"}) {
    EXPECT_TRUE(info.contains(field) && !info[field].is_null()) << field << " in " << info;
  }
  EXPECT_EQ(info["model_id"], "bge-tiny");
  EXPECT_EQ(info["model_dtype"], "float32");
  EXPECT_EQ(info["model_type"], json({{"embedding", {{"pooling", "mean"}}}}));
  EXPECT_EQ(info["max_input_length"], 64);
  EXPECT_EQ(info["auto_truncate"], true);
  EXPECT_EQ(info["max_concurrent_requests"], 512);
  ASSERT_EQ(info["models"].size(), 2u);
  EXPECT_TRUE(info["models"][1]["model_type"].contains("reranker")) << info;
}

TEST_F(Compatibility, PredictWithARerankerScoresItsOneLabel) {
  json scored = post_json("/predict", {{"inputs", {"what is a cat", "a cat"}}});
  ASSERT_EQ(scored.size(), 1u);
  EXPECT_EQ(scored[0]["label"], "LABEL_0");
  EXPECT_GT(scored[0]["score"].get<double>(), 0.0);
  EXPECT_LT(scored[0]["score"].get<double>(), 1.0);
  json batch = post_json("/predict", {{"inputs", {"a", "b", "c"}}, {"raw_scores", true}});
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].size(), 1u);
}

// A directory of its own for each test, removed after it.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    char pattern[] = "/tmp/inferd-compat-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~ScratchDirectory() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A three-label classifier from the tiny models' generator; empty when python3 with numpy cannot write it.
std::string write_classifier(const fs::path& directory) {
  const std::string command = "/usr/bin/python3 " + std::string(TPUSTACK_SOURCE_DIR) +
                              "/tests/inferd/tools/make_bert_model.py --cross-encoder --labels 3 --seed 21 --out " +
                              (directory / "classifier").string() + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0 ? (directory / "classifier").string() : "";
}

TEST(CompatibilityProcess, PredictClassifiesAndPromptsComeFromTheModel) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ScratchDirectory scratch;
  const std::string classifier = write_classifier(scratch.path());
  ASSERT_FALSE(classifier.empty()) << "make_bert_model.py could not write a classifier";
  // The embedder with sentence-transformers prompts, as E5 and BGE models ship them.
  const fs::path prompted = scratch.path() / "prompted";
  fs::copy(ServedInferd::tiny_models() + "/f32-mean", prompted, fs::copy_options::recursive);
  std::ofstream(prompted / "config_sentence_transformers.json")
      << R"({"prompts": {"query": "query: ", "passage": ""}, "default_prompt_name": null})";
  ServedInferd server({"--model", "p=" + prompted.string(), "--model", "c=" + classifier, "--threads", "1"});

  HttpResult predicted = server.post("/predict", json({{"inputs", "a cat"}}).dump());
  ASSERT_EQ(predicted.status, 200) << predicted.body;
  json scores = json::parse(predicted.body);
  ASSERT_EQ(scores.size(), 3u);
  double sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    sum += scores[i]["score"].get<double>();
    if (i > 0) {
      EXPECT_GE(scores[i - 1]["score"], scores[i]["score"]);
    }
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  json batch = json::parse(server.post("/predict", json({{"inputs", {"a", {"b", "c"}}}}).dump()).body);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1].size(), 3u);
  // POST / is the classifier's task when the classifier is named.
  EXPECT_EQ(json::parse(server.post("/", json({{"inputs", "a cat"}, {"model", "c"}}).dump()).body).size(), 3u);
  EXPECT_EQ(json::parse(server.get("/info").body)["models"][0]["model_type"]["classifier"]["id2label"]["2"], "LABEL_2");
  // A three-label classifier is no reranker (TEI's rule).
  EXPECT_EQ(server.post("/rerank", json({{"query", "q"}, {"texts", {"a"}}}).dump()).status, 400);

  json with_prompt =
      json::parse(server.post("/embed", json({{"inputs", "cats"}, {"prompt_name", "query"}}).dump()).body);
  json by_hand = json::parse(server.post("/embed", json({{"inputs", "query: cats"}}).dump()).body);
  json plain = json::parse(server.post("/embed", json({{"inputs", "cats"}}).dump()).body);
  expect_close(with_prompt[0], by_hand[0]);
  EXPECT_NE(with_prompt[0], plain[0]);
  HttpResult unknown = server.post("/embed", json({{"inputs", "cats"}, {"prompt_name", "document"}}).dump());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("passage, query"), std::string::npos) << unknown.body;
}

TEST(CompatibilityProcess, PredictWithoutAClassifierSaysWhy) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd server(ServedInferd::one_tiny_model());
  HttpResult refused = server.post("/predict", json({{"inputs", "a cat"}}).dump());
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("no model of this server can predict"), std::string::npos) << refused.body;
}

TEST(CompatibilityProcess, AutoTruncateOffRefusesOverLongInputs) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  auto flags = ServedInferd::one_tiny_model();
  flags.insert(flags.end(), {"--auto-truncate", "false"});
  ServedInferd server(flags);
  EXPECT_EQ(server.post("/embed", json({{"inputs", words(100)}}).dump()).status, 422);
  EXPECT_EQ(server.post("/embed", json({{"inputs", words(100)}, {"truncate", true}}).dump()).status, 200);
  EXPECT_EQ(json::parse(server.get("/info").body)["auto_truncate"], false);
}

TEST(CompatibilityProcess, TheQueueIsCountedInTokensAndATooLargeRequestIs413) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  auto flags = ServedInferd::one_tiny_model();
  flags.insert(flags.end(), {"--max-queue-tokens", "100"});
  ServedInferd server(flags);
  // Two inputs of 64 tokens can never fit a queue of 100 tokens: 413 at once, not 429 forever.
  HttpResult refused = server.post("/embed", json({{"inputs", {words(100), words(100)}}}).dump());
  EXPECT_EQ(refused.status, 413) << refused.body;
  EXPECT_NE(refused.body.find("--max-queue-tokens"), std::string::npos) << refused.body;
  EXPECT_EQ(server.post("/embed", json({{"inputs", {words(100)}}}).dump()).status, 200);
  EXPECT_EQ(json::parse(server.get("/info").body)["max_queue_tokens"], 100);
}

// TEI's max_input_length is the model's maximum, and never more than --max-batch-tokens.
TEST(CompatibilityProcess, NoInputIsLongerThanABatchHolds) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  auto flags = ServedInferd::one_tiny_model();
  flags.insert(flags.end(), {"--max-batch-tokens", "16"});
  ServedInferd server(flags);
  EXPECT_EQ(json::parse(server.get("/info").body)["max_input_length"], 16);
  HttpResult refused = server.post("/embed", json({{"inputs", words(40)}, {"truncate", false}}).dump());
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("at most 16"), std::string::npos) << refused.body;
  HttpResult cut = server.post("/embed", json({{"inputs", words(40)}}).dump());
  ASSERT_EQ(cut.status, 200) << cut.body;
  EXPECT_EQ(std::stoi(cut.headers["x-compute-tokens"]), 16);
}

}  // namespace
}  // namespace tpustack::inferd::testing
