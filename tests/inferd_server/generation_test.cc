// Text generation from `inferd serve` with a tiny Llama (tests/inferd/tools/make_llama_model.py), over real HTTP:
// OpenAI's /v1/completions and /v1/chat/completions whole and streamed as server-sent events, TGI's /generate and
// /generate_stream, inferd.v1's Generate over gRPC, the refusals, and a Python client reading the stream with
// http.client.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <future>

#include "proto/inferd/v1/inferd.grpc.pb.h"
#include "served_inferd.h"
#include "tests/inferd/tiny_decoders.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The JSON of each "data: " event of a server-sent event stream; "[DONE]" as the string.
std::vector<json> events(const std::string& body) {
  std::vector<json> out;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const size_t end = body.find("\n\n", at);
    const std::string data = body.substr(at + 6, end - at - 6);
    out.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data));
    at = end;
  }
  return out;
}

class GenerationRoutes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!tiny_decoders_available()) return;
    server_ = new ServedInferd({"--model", "g=" + tiny_decoder("llama").string(), "--preload", "g", "--threads", "1"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { INFERD_REQUIRE_TINY_DECODERS(); }

  static json post_json(const std::string& path, const json& body, int status = 200) {
    const HttpResult reply = server_->post(path, body.dump());
    EXPECT_EQ(reply.status, status) << reply.body;
    return json::parse(reply.body);
  }

  static ServedInferd* server_;
};
ServedInferd* GenerationRoutes::server_ = nullptr;

const json kGreedy = {{"temperature", 0}, {"ignore_eos", true}};

TEST_F(GenerationRoutes, ACompletionAnswersInOpenAisShape) {
  json body = {{"model", "g"}, {"prompt", "Once upon"}, {"max_tokens", 6}};
  body.update(kGreedy);
  const json answer = post_json("/v1/completions", body);
  EXPECT_EQ(answer["object"], "text_completion");
  EXPECT_THAT(answer["id"].get<std::string>(), ::testing::StartsWith("cmpl-"));
  EXPECT_EQ(answer["model"], "g");
  ASSERT_EQ(answer["choices"].size(), 1u);
  EXPECT_EQ(answer["choices"][0]["finish_reason"], "length");
  // A byte-level vocabulary without merges and no BOS template: one token per byte of the prompt.
  EXPECT_EQ(answer["usage"], json({{"prompt_tokens", 9}, {"completion_tokens", 6}, {"total_tokens", 15}}));
  // Greedy: the same prompt, the same text.
  EXPECT_EQ(post_json("/v1/completions", body)["choices"][0]["text"], answer["choices"][0]["text"]);
}

TEST_F(GenerationRoutes, AStreamedChatIsTheWholeAnswerInPiecesEndingWithDone) {
  json body = {{"model", "g"}, {"messages", {{{"role", "user"}, {"content", "Hello there"}}}}, {"max_tokens", 8}};
  body.update(kGreedy);
  const json whole = post_json("/v1/chat/completions", body);
  EXPECT_EQ(whole["object"], "chat.completion");
  EXPECT_EQ(whole["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(whole["usage"]["completion_tokens"], 8);

  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  const HttpResult streamed = server_->post("/v1/chat/completions", body.dump());
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  EXPECT_THAT(streamed.headers.at("content-type"), HasSubstr("text/event-stream"));
  const std::vector<json> chunks = events(streamed.body);
  ASSERT_GE(chunks.size(), 4u) << streamed.body;
  EXPECT_EQ(chunks.front()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(chunks.back(), "[DONE]");
  const json& usage = chunks[chunks.size() - 2];
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"], whole["usage"]);
  std::string content;
  std::string finish;
  for (size_t i = 0; i + 2 < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i]["object"], "chat.completion.chunk");
    EXPECT_EQ(chunks[i]["id"], chunks.front()["id"]);
    const json& choice = chunks[i]["choices"][0];
    content += choice["delta"].value("content", "");
    if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
  }
  EXPECT_EQ(content, whole["choices"][0]["message"]["content"]);
  EXPECT_EQ(finish, "length");
}

TEST_F(GenerationRoutes, ChatLogprobsListEveryTokenWithItsAlternatives) {
  json body = {{"model", "g"},
               {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
               {"max_tokens", 5},
               {"logprobs", true},
               {"top_logprobs", 3}};
  body.update(kGreedy);
  const json answer = post_json("/v1/chat/completions", body);
  const json& content = answer["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 5u) << answer.dump();
  std::string text;
  for (const json& token : content) {
    text += token["token"].get<std::string>();
    EXPECT_LE(token["logprob"].get<double>(), 0.0);
    ASSERT_EQ(token["top_logprobs"].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_NEAR(token["top_logprobs"][0]["logprob"].get<double>(), token["logprob"].get<double>(), 1e-4);
  }
  EXPECT_EQ(text, answer["choices"][0]["message"]["content"]);
}

TEST_F(GenerationRoutes, ABurstOfRequestsIsBatchedNotRefused) {
  json body = {{"model", "g"}, {"prompt", "Burst"}, {"max_tokens", 12}};
  body.update(kGreedy);
  const json alone = post_json("/v1/completions", body);
  std::vector<std::future<HttpResult>> replies;
  for (int i = 0; i < 16; ++i) {
    replies.push_back(std::async(std::launch::async, [&] { return server_->post("/v1/completions", body.dump()); }));
  }
  for (auto& reply : replies) {
    const HttpResult got = reply.get();
    ASSERT_EQ(got.status, 200) << got.body;
    // Batched with the others, each gets what it gets alone.
    EXPECT_EQ(json::parse(got.body)["choices"][0]["text"], alone["choices"][0]["text"]);
  }
}

TEST_F(GenerationRoutes, TgiGenerateAndGenerateStreamAgree) {
  const json body = {{"inputs", "abc"}, {"parameters", {{"max_new_tokens", 5}, {"details", true}}}};
  const json whole = post_json("/generate", body);
  ASSERT_TRUE(whole["generated_text"].is_string());
  EXPECT_THAT(whole["details"]["finish_reason"].get<std::string>(), ::testing::AnyOf("length", "eos_token"));
  const HttpResult streamed = server_->post("/generate_stream", body.dump());
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  const std::vector<json> chunks = events(streamed.body);
  ASSERT_FALSE(chunks.empty());
  std::string text;
  for (const json& chunk : chunks) text += chunk["token"]["text"].get<std::string>();
  EXPECT_EQ(text, whole["generated_text"]);
  EXPECT_EQ(chunks.back()["generated_text"], whole["generated_text"]);
  EXPECT_EQ(chunks.back()["details"]["generated_tokens"], whole["details"]["generated_tokens"]);
}

TEST_F(GenerationRoutes, WhatCannotBeServedIsRefusedNamingTheField) {
  const json too_long = post_json("/v1/completions", {{"model", "g"}, {"prompt", "x"}, {"max_tokens", 100000}}, 400);
  EXPECT_EQ(too_long["error"]["param"], "max_tokens");
  EXPECT_THAT(too_long["error"]["message"].get<std::string>(), HasSubstr("maximum context length"));
  EXPECT_EQ(post_json("/v1/completions", {{"prompt", "x"}, {"n", 2}}, 400)["error"]["param"], "n");
  EXPECT_EQ(post_json("/v1/chat/completions", {{"messages", json::array()}}, 400)["error"]["param"], "messages");
  EXPECT_EQ(post_json("/v1/completions", {{"prompt", "x"}, {"temperature", 3}}, 400)["error"]["type"],
            "invalid_request_error");
  EXPECT_EQ(post_json("/generate", {{"parameters", json::object()}}, 422)["error_type"], "validation");
  // An embedding route asked of a decoder.
  EXPECT_THAT(post_json("/v1/embeddings", {{"model", "g"}, {"input", "x"}}, 400)["error"]["message"].get<std::string>(),
              HasSubstr("cannot embed"));
}

TEST_F(GenerationRoutes, GrpcGenerateStreamsWhatTheCompletionsRouteAnswers) {
  json body = {{"model", "g"}, {"prompt", "The sea"}, {"max_tokens", 7}};
  body.update(kGreedy);
  const json whole = post_json("/v1/completions", body);

  auto stub =
      ::inferd::v1::Inferd::NewStub(grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  ::inferd::v1::GenerateRequest request;
  request.set_prompt("The sea");
  request.set_max_tokens(7);
  request.set_temperature(0);
  request.set_ignore_eos(true);
  auto reader = stub->Generate(&context, request);
  ::inferd::v1::GenerateResponse response;
  std::string text;
  std::string finish;
  uint32_t tokens = 0;
  while (reader->Read(&response)) {
    text += response.text();
    finish = response.finish_reason();
    tokens = response.completion_tokens();
    EXPECT_EQ(response.model(), "g");
  }
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(text, whole["choices"][0]["text"]);
  EXPECT_EQ(finish, "length");
  EXPECT_EQ(tokens, 7u);

  grpc::ClientContext refused_context;
  request.set_max_tokens(1000000);
  auto refused = stub->Generate(&refused_context, request);
  while (refused->Read(&response)) {
  }
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GenerationRoutes, APythonClientReadsTheStreamOverPlainHttp) {
  ChildProcess client({"python3", std::string(TPUSTACK_SOURCE_DIR) + "/tests/inferd_server/tools/sse_chat.py",
                       "http://127.0.0.1:" + std::to_string(server_->http_port()), "g"});
  const auto status = client.wait(60s);
  ASSERT_TRUE(status.has_value()) << client.output();
  EXPECT_EQ(*status, 0) << client.output();
  EXPECT_THAT(client.output(), HasSubstr("finish_reason=length completion_tokens=10 done=True")) << client.output();
}

}  // namespace
}  // namespace tpustack::inferd::testing
