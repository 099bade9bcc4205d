#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "proto/inferd/v1/inferd.grpc.pb.h"
#include "served_inferd.h"
#include "tests/support/required_tool.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;

std::string long_text(size_t words) {
  std::string text;
  for (size_t i = 0; i < words; ++i) text += "quick ";
  return text;
}

// One server with every tiny model for the route and error tests.
class ServeRoutes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (ServedInferd::tiny_models().empty()) return;
    server_ = new ServedInferd({"--models-dir", ServedInferd::tiny_models(), "--preload", "f32-mean,cross-encoder",
                                "--threads", "1", "--max-client-batch-size", "8", "--payload-limit", "4096"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { TPUSTACK_REQUIRE_SETUP(server_ != nullptr, "python3-numpy (it writes the tiny models)"); }
  static json post_json(const std::string& path, const json& body, int expected_status = 200) {
    HttpResult result = server_->post(path, body.dump());
    EXPECT_EQ(result.status, expected_status) << path << " " << result.body;
    return json::parse(result.body, nullptr, false);
  }
  static ServedInferd* server_;
};

ServedInferd* ServeRoutes::server_ = nullptr;

TEST_F(ServeRoutes, EmbedReturnsUnitVectorsInInputOrderWithTimingHeaders) {
  HttpResult result =
      server_->post("/embed", json({{"inputs", {"hello world", "the lazy dog"}}, {"model", "f32-mean"}}).dump());
  ASSERT_EQ(result.status, 200) << result.body;
  json vectors = json::parse(result.body);
  ASSERT_EQ(vectors.size(), 2u);
  ASSERT_EQ(vectors[0].size(), 32u);
  double norm = 0;
  for (double v : vectors[0]) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  for (const char* header : {"x-compute-type", "x-total-time", "x-tokenization-time", "x-queue-time",
                             "x-inference-time", "x-compute-tokens", "x-compute-characters"}) {
    EXPECT_TRUE(result.headers.contains(header)) << header;
  }
  // The same text alone gives the same vector as inside a batch.
  json alone = post_json("/embed", {{"inputs", "the lazy dog"}, {"model", "f32-mean"}});
  for (size_t i = 0; i < 32; ++i) EXPECT_NEAR(alone[0][i].get<double>(), vectors[1][i].get<double>(), 1e-5);
}

TEST_F(ServeRoutes, RerankSortsByScoreAndCanReturnText) {
  json ranked = post_json("/rerank", {{"query", "what is a cat"},
                                      {"texts", {"a cat", "fast search engine", "the dog"}},
                                      {"model", "cross-encoder"},
                                      {"return_text", true}});
  ASSERT_EQ(ranked.size(), 3u);
  for (size_t i = 1; i < ranked.size(); ++i) EXPECT_GE(ranked[i - 1]["score"], ranked[i]["score"]);
  for (const json& r : ranked) {
    EXPECT_GT(r["score"].get<double>(), 0.0);
    EXPECT_LT(r["score"].get<double>(), 1.0);  // sigmoid unless raw_scores
    EXPECT_TRUE(r.contains("text"));
  }
  json termite = post_json("/api/rerank", {{"query", "what is a cat"},
                                           {"prompts", {"a cat", "fast search engine", "the dog"}},
                                           {"model", "cross-encoder"}});
  ASSERT_EQ(termite["scores"].size(), 3u);
  EXPECT_NEAR(termite["scores"][ranked[0]["index"].get<size_t>()].get<double>(), ranked[0]["score"].get<double>(),
              1e-6);
}

TEST_F(ServeRoutes, OpenAiEmbeddingsInFloatAndBase64) {
  json floats = post_json("/v1/embeddings", {{"input", {"hello", "world"}}, {"model", "f32-mean"}});
  EXPECT_EQ(floats["object"], "list");
  ASSERT_EQ(floats["data"].size(), 2u);
  EXPECT_EQ(floats["data"][1]["index"], 1);
  EXPECT_EQ(floats["data"][0]["embedding"].size(), 32u);
  EXPECT_GT(floats["usage"]["prompt_tokens"].get<int>(), 0);
  json packed = post_json("/v1/embeddings", {{"input", "hello"}, {"model", "f32-mean"}, {"encoding_format", "base64"}});
  EXPECT_EQ(packed["data"][0]["embedding"].get<std::string>().size(), (32u * 4 + 2) / 3 * 4);
  json models = json::parse(server_->get("/v1/models").body);
  EXPECT_EQ(models["data"].size(), 4u);
}

TEST_F(ServeRoutes, TermiteEmbedInJsonAndBinary) {
  HttpResult as_json = server_->post("/api/embed", json({{"input", {"a", "b", "c"}}, {"model", "f32-mean"}}).dump(),
                                     {{"Accept", "application/json"}});
  ASSERT_EQ(as_json.status, 200);
  EXPECT_EQ(json::parse(as_json.body)["embeddings"].size(), 3u);
  HttpResult binary = server_->post("/api/embed", json({{"input", {"a", "b", "c"}}, {"model", "f32-mean"}}).dump());
  ASSERT_EQ(binary.status, 200);
  ASSERT_EQ(binary.body.size(), 16u + 3 * 32 * 4);
  uint64_t header[2];
  std::memcpy(header, binary.body.data(), sizeof header);
  EXPECT_EQ(header[0], 3u);
  EXPECT_EQ(header[1], 32u);
  json models = json::parse(server_->get("/api/models").body);
  EXPECT_EQ(models["rerankers"], json({"cross-encoder"}));
}

TEST_F(ServeRoutes, TokenizeInfoHealthReadyMetrics) {
  post_json("/embed", {{"inputs", "hello"}, {"model", "f32-mean"}});  // so the labelled series exist
  // TEI's SimpleTokens, to the byte: text is what the input had where the token came from (é, not e).
  HttpResult tokenized = server_->post("/tokenize", json({{"inputs", "Héllo world!"}, {"model", "f32-mean"}}).dump());
  ASSERT_EQ(tokenized.status, 200) << tokenized.body;
  EXPECT_EQ(tokenized.body, R"([[{"id":2,"text":"[CLS]","special":true,"start":null,"stop":null},)"
                            R"({"id":25,"text":"Héllo","special":false,"start":0,"stop":6},)"
                            R"({"id":26,"text":"world","special":false,"start":7,"stop":12},)"
                            R"({"id":29,"text":"!","special":false,"start":12,"stop":13},)"
                            R"({"id":3,"text":"[SEP]","special":true,"start":null,"stop":null}]])");
  json plain =
      post_json("/tokenize", {{"inputs", {"cats", "a dog"}}, {"model", "f32-mean"}, {"add_special_tokens", false}});
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0], json::parse(R"([{"id":16,"text":"cat","special":false,"start":0,"stop":3},
                                      {"id":83,"text":"s","special":false,"start":3,"stop":4}])"));
  ASSERT_EQ(plain[1].size(), 2u);
  EXPECT_EQ(plain[1][1], json::parse(R"({"id":12,"text":"dog","special":false,"start":2,"stop":5})"));
  json info = json::parse(server_->get("/info").body);
  EXPECT_EQ(info["backend"], "cpu");
  EXPECT_EQ(info["worker"]["role"], "single");
  EXPECT_EQ(info["max_client_batch_size"], 8);
  EXPECT_EQ(server_->get("/health").status, 200);
  EXPECT_EQ(server_->get("/ready").status, 200);
  const std::string metrics = server_->get("/metrics").body;
  for (const char* name :
       {"inferd_requests_total", "inferd_queue_size", "inferd_batch_next_size_bucket",
        "inferd_batch_next_tokens_bucket", "inferd_request_queue_duration_seconds_bucket",
        "inferd_request_inference_duration_seconds_bucket", "inferd_request_tokenization_duration_seconds_bucket",
        "inferd_http_requests_total", "inferd_models_loaded"}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
  }
}

TEST_F(ServeRoutes, ClientErrorsHaveTheirStatus) {
  EXPECT_EQ(server_->post("/embed", "{\"inputs\": [").status, 400);
  EXPECT_EQ(server_->post("/embed", "{\"inputs\": \"caf\xc3\x28\", \"model\": \"f32-mean\"}").status, 400);
  EXPECT_EQ(server_->post("/embed", json({{"inputs", 5}, {"model", "f32-mean"}}).dump()).status, 422);
  EXPECT_EQ(server_->post("/embed", json({{"inputs", "x"}}).dump()).status, 400);  // four models: name one
  EXPECT_EQ(server_->post("/embed", json({{"inputs", "x"}, {"model", "nope"}}).dump()).status, 404);
  EXPECT_EQ(server_->post("/v1/embeddings", json({{"input", "x"}, {"model", "nope"}}).dump()).status, 404);
  EXPECT_EQ(server_->post("/embed", json({{"inputs", std::vector<std::string>(9, "a")}, {"model", "f32-mean"}}).dump())
                .status,
            413);
  EXPECT_EQ(server_->post("/embed", json({{"inputs", std::string(5000, 'a')}, {"model", "f32-mean"}}).dump()).status,
            413);
  EXPECT_EQ(server_->post("/rerank", json({{"query", "q"}, {"texts", {"a"}}, {"model", "f32-mean"}}).dump()).status,
            400);
  EXPECT_EQ(server_->get("/nowhere").status, 404);
}

// Truncation is on unless a request turns it off (--auto-truncate, TEI's default).
TEST_F(ServeRoutes, OverLongInputIs422UnlessTruncated) {
  HttpResult refused =
      server_->post("/embed", json({{"inputs", long_text(100)}, {"model", "f32-mean"}, {"truncate", false}}).dump());
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("truncate"), std::string::npos);
  json cut = post_json("/embed", {{"inputs", long_text(100)}, {"model", "f32-mean"}});
  EXPECT_EQ(cut[0].size(), 32u);
  EXPECT_EQ(
      server_
          ->post("/rerank",
                 json({{"query", "q"}, {"texts", {long_text(100)}}, {"model", "cross-encoder"}, {"truncate", false}})
                     .dump())
          .status,
      422);
}

TEST_F(ServeRoutes, PassedDeadlineIs504) {
  HttpResult late =
      server_->post("/embed", json({{"inputs", "hello"}, {"model", "f32-mean"}}).dump(), {{"x-request-timeout", "0s"}});
  EXPECT_EQ(late.status, 504) << late.body;
  EXPECT_EQ(
      server_
          ->post("/embed", json({{"inputs", "hello"}, {"model", "f32-mean"}}).dump(), {{"x-request-timeout", "soon"}})
          .status,
      400);
}

TEST_F(ServeRoutes, WorkOfAClientThatHungUpIsDropped) {
  const std::string counted = R"(inferd_http_requests_total{route="/embed",status="499"})";
  // The hang-up reaches the server with the body; a few tries cover a server quick enough to beat it.
  for (int attempt = 0; attempt < 10 && server_->get("/metrics").body.find(counted) == std::string::npos; ++attempt) {
    server_->post_and_hang_up("/embed", json({{"inputs", long_text(20)}, {"model", "f32-mean"}}).dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string metrics = server_->get("/metrics").body;
  EXPECT_NE(metrics.find(counted), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(inferd_requests_failed_total{err="499"})"), std::string::npos);
  EXPECT_EQ(post_json("/embed", {{"inputs", "hello"}, {"model", "f32-mean"}}).size(), 1u);
}

TEST_F(ServeRoutes, ConcurrentClientsAllGetTheirOwnAnswers) {
  const json expected = post_json("/embed", {{"inputs", "quick brown fox"}, {"model", "f32-mean"}});
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&, c] {
      for (int r = 0; r < 8; ++r) {
        const std::string text = (c + r) % 2 ? "quick brown fox" : long_text(static_cast<size_t>(5 + c));
        HttpResult result = server_->post("/embed", json({{"inputs", text}, {"model", "f32-mean"}}).dump());
        if (result.status != 200) continue;
        json vectors = json::parse(result.body);
        if (text == "quick brown fox" && std::abs(vectors[0][0].get<double>() - expected[0][0].get<double>()) > 1e-5)
          continue;
        ++good;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(good.load(), 12 * 8);
}

TEST_F(ServeRoutes, GrpcTokenizeGivesTeiSimpleTokens) {
  auto stub =
      ::inferd::v1::Inferd::NewStub(grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  ::inferd::v1::TokenizeRequest request;
  request.set_model("f32-mean");
  request.add_inputs("hello world");
  ::inferd::v1::TokenizeResponse response;
  ASSERT_TRUE(stub->Tokenize(&context, request, &response).ok());
  const ::inferd::v1::Tokens& tokens = response.tokens(0);
  EXPECT_EQ(tokens.ids_size(), 4);
  ASSERT_EQ(tokens.simple_tokens_size(), 4);  // [CLS] hello world [SEP]
  EXPECT_EQ(tokens.simple_tokens(0).text(), "[CLS]");
  EXPECT_TRUE(tokens.simple_tokens(0).special());
  EXPECT_FALSE(tokens.simple_tokens(0).has_start());
  EXPECT_EQ(tokens.simple_tokens(2).id(), 26);
  EXPECT_EQ(tokens.simple_tokens(2).text(), "world");
  EXPECT_FALSE(tokens.simple_tokens(2).special());
  EXPECT_EQ(tokens.simple_tokens(2).start(), 6u);
  EXPECT_EQ(tokens.simple_tokens(2).stop(), 11u);
  grpc::ClientContext plain_context;
  request.set_add_special_tokens(false);
  ASSERT_TRUE(stub->Tokenize(&plain_context, request, &response).ok());
  EXPECT_EQ(response.tokens(0).simple_tokens_size(), 2);
}

TEST_F(ServeRoutes, GrpcCallsAndErrorCodes) {
  auto channel = grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = ::inferd::v1::Inferd::NewStub(channel);
  {
    grpc::ClientContext context;
    ::inferd::v1::EmbedRequest request;
    request.set_model("f32-mean");
    request.add_inputs("hello");
    request.add_inputs("world");
    ::inferd::v1::EmbedResponse response;
    grpc::Status status = stub->Embed(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.embeddings_size(), 2);
    EXPECT_EQ(response.embeddings(0).values_size(), 32);
    EXPECT_GT(response.metadata().compute_tokens(), 0u);
  }
  {
    grpc::ClientContext context;
    ::inferd::v1::RerankRequest request;
    request.set_model("cross-encoder");
    request.set_query("cat");
    request.add_texts("a cat");
    request.add_texts("a dog");
    ::inferd::v1::RerankResponse response;
    ASSERT_TRUE(stub->Rerank(&context, request, &response).ok());
    ASSERT_EQ(response.ranks_size(), 2);
    EXPECT_GE(response.ranks(0).score(), response.ranks(1).score());
  }
  {
    grpc::ClientContext context;
    ::inferd::v1::InfoResponse info;
    ASSERT_TRUE(stub->Info(&context, {}, &info).ok());
    EXPECT_EQ(info.models_size(), 4);
    EXPECT_EQ(info.worker_role(), "single");
    grpc::ClientContext health_context;
    ::inferd::v1::HealthResponse health;
    ASSERT_TRUE(stub->Health(&health_context, {}, &health).ok());
    EXPECT_TRUE(health.ready());
  }
  {
    grpc::ClientContext context;
    ::inferd::v1::EmbedRequest request;
    request.set_model("nope");
    request.add_inputs("x");
    ::inferd::v1::EmbedResponse response;
    EXPECT_EQ(stub->Embed(&context, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ::inferd::v1::EmbedRequest request;
    request.set_model("f32-mean");
    request.add_inputs(long_text(100));
    ::inferd::v1::EmbedResponse response;
    EXPECT_EQ(stub->Embed(&context, request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST(ServeProcess, FullQueueAnswers429WithRetryAfter) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd server({"--model", "m=" + ServedInferd::tiny_models() + "/f32-mean", "--preload", "m", "--threads", "1",
                       "--max-queue", "2", "--max-batch-requests", "1"});
  std::atomic<int> ok{0}, overloaded{0}, other{0};
  std::atomic<bool> retry_after{true};
  std::vector<std::thread> clients;
  for (int c = 0; c < 24; ++c) {
    clients.emplace_back([&] {
      for (int r = 0; r < 4; ++r) {
        HttpResult result =
            server.post("/embed", json({{"inputs", {long_text(60), long_text(60)}}, {"truncate", true}}).dump());
        if (result.status == 200) {
          ++ok;
        } else if (result.status == 429) {
          ++overloaded;
          if (!result.headers.contains("retry-after")) retry_after = false;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(overloaded.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(retry_after.load());
  EXPECT_EQ(server.get("/health").status, 200);  // overload does not hurt the process
}

TEST(ServeProcess, FullQueueAnswersGrpcResourceExhausted) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd server({"--model", "m=" + ServedInferd::tiny_models() + "/f32-mean", "--preload", "m", "--threads", "1",
                       "--max-queue", "2", "--max-batch-requests", "1"});
  auto stub =
      ::inferd::v1::Inferd::NewStub(grpc::CreateChannel(server.grpc_address(), grpc::InsecureChannelCredentials()));
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 24; ++c) {
    clients.emplace_back([&] {
      for (int r = 0; r < 4; ++r) {
        grpc::ClientContext context;
        ::inferd::v1::EmbedRequest request;
        request.add_inputs(long_text(60));
        request.add_inputs(long_text(60));
        request.set_truncate(true);
        ::inferd::v1::EmbedResponse response;
        const grpc::Status status = stub->Embed(&context, request, &response);
        (status.ok() ? ok : status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? exhausted : other)++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(exhausted.load(), 0);
  EXPECT_EQ(other.load(), 0);
}

TEST(ServeProcess, SigtermDrainsInFlightRequestsAndExitsZero) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd server({"--model", "m=" + ServedInferd::tiny_models() + "/f32-mean", "--preload", "m", "--threads", "1",
                       "--max-batch-requests", "1"});
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        try {
          HttpResult result = server.post("/embed", json({{"inputs", long_text(60)}, {"truncate", true}}).dump());
          (result.status == 200 ? ok : result.status == 503 ? refused : other)++;  // 503: refused while draining
          if (result.status != 200) return;
        } catch (const std::exception&) {
          return;  // the server has closed its connections
        }
      }
    });
  }
  while (ok < 8) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server.process().signal(SIGTERM);
  const auto status = server.process().wait(std::chrono::seconds(30));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(other.load(), 0);  // every request either finished or was refused cleanly
  server.process().wait_for_line("stopped", std::chrono::seconds(5));
  EXPECT_NE(server.process().output().find("draining"), std::string::npos) << server.process().output();
}

TEST(ServeProcess, MemoryBudgetUnloadsTheLeastRecentlyUsedModel) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  // Room for one tiny model at a time.
  ServedInferd server({"--models-dir", ServedInferd::tiny_models(), "--memory-budget", "110000", "--threads", "1"});
  EXPECT_EQ(server.post("/embed", json({{"inputs", "a"}, {"model", "f32-mean"}}).dump()).status, 200);
  EXPECT_EQ(server.post("/embed", json({{"inputs", "a"}, {"model", "bf16-mean"}}).dump()).status, 200);
  json info = json::parse(server.get("/info").body);
  EXPECT_EQ(info["loaded"], json({"bf16-mean"}));
  EXPECT_EQ(server.post("/embed", json({{"inputs", "a"}, {"model", "f32-mean"}}).dump()).status, 200);
  EXPECT_EQ(json::parse(server.get("/info").body)["loaded"], json({"f32-mean"}));
}

TEST(ServeProcess, Int8VariantServesCloseToFloat) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  const std::string model = "m=" + ServedInferd::tiny_models() + "/f32-mean";
  ServedInferd f32({"--model", model, "--preload", "m", "--threads", "1"});
  ServedInferd i8({"--model", model, "--preload", "m", "--threads", "1", "--variant", "i8"});
  json info = json::parse(i8.get("/info").body);
  EXPECT_EQ(info["variant"], "i8");
  EXPECT_EQ(info["models"][0]["variant"], "i8");
  const std::string body = json({{"inputs", "the quick brown fox"}}).dump();
  json a = json::parse(f32.post("/embed", body).body)[0], b = json::parse(i8.post("/embed", body).body)[0];
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += a[i].get<double>() * b[i].get<double>();
  EXPECT_GT(dot, 0.99);  // both unit vectors
}

// `--variant auto` times the variants this CPU has at load; /info then says, per model, which won and which
// instruction set and oneDNN kernel run its products.
TEST(ServeProcess, AutoVariantSaysWhatItChoseAndWhatRunsIt) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  const std::string model = "m=" + ServedInferd::tiny_models() + "/f32-mean";
  ServedInferd server({"--model", model, "--preload", "m", "--threads", "1", "--variant", "auto"});
  json info = json::parse(server.get("/info").body);
  EXPECT_EQ(info["variant"], "auto");
  ASSERT_EQ(info["models"].size(), 1u);
  const json& loaded = info["models"][0];
  EXPECT_TRUE(loaded["variant"] == "f32" || loaded["variant"] == "bf16" || loaded["variant"] == "i8") << loaded;
  ASSERT_TRUE(loaded["kernel"].is_string()) << loaded;
  EXPECT_NE(loaded["kernel"].get<std::string>().find(' '), std::string::npos) << loaded;  // "<isa> <kernel>"
  EXPECT_NE(server.process().output().find("variant auto: "), std::string::npos) << server.process().output();
  EXPECT_EQ(server.post("/embed", json({{"inputs", "the quick brown fox"}}).dump()).status, 200);
}

TEST(ServeProcess, UnavailableBackendFailsAtStartSayingWhy) {
  ChildProcess process({ServedInferd::binary(), "serve", "--model", "m=/nonexistent", "--backend", "tpu",
                        "--pjrt-plugin", "/nonexistent/libtpu.so"});
  EXPECT_EQ(process.wait(std::chrono::seconds(20)), 1);
  process.wait_for_line("", std::chrono::seconds(1));
  EXPECT_NE(process.output().find("--backend tpu: "), std::string::npos) << process.output();
  EXPECT_NE(process.output().find("/nonexistent/libtpu.so"), std::string::npos) << process.output();
}

TEST(ServeProcess, SettingsComeFromTheConfigFileAndTheEnvironmentToo) {
  // The environment names the backend as the flag would: refused at start like --backend xla:tpu.
  ChildProcess from_env({ServedInferd::binary(), "serve", "--model", "m=/nonexistent"},
                        {"INFERD_BACKEND=xla:tpu", "INFERD_PJRT_PLUGIN=/nonexistent/libtpu.so"});
  EXPECT_EQ(from_env.wait(std::chrono::seconds(20)), 1);
  from_env.wait_for_line("", std::chrono::seconds(1));
  EXPECT_NE(from_env.output().find("--backend xla:tpu: "), std::string::npos) << from_env.output();

  // A key that is no flag's stops the start, naming the file and line; the flag beats the environment.
  const auto config = std::filesystem::temp_directory_path() / ("inferd-config-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(config) << "threads: 2\nmaxBatchTokenz: 9\n";
  ChildProcess typo({ServedInferd::binary(), "serve", "--config", config.string(), "--backend", "cpu"},
                    {"INFERD_BACKEND=tpu"});
  EXPECT_EQ(typo.wait(std::chrono::seconds(20)), 2);  // a usage error
  typo.wait_for_line("", std::chrono::seconds(1));
  EXPECT_NE(typo.output().find(config.string() + ":2: maxBatchTokenz"), std::string::npos) << typo.output();
  std::filesystem::remove(config);
}

}  // namespace
}  // namespace tpustack::inferd::testing
