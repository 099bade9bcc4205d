// inferd's gRPC port as TEI's clients, Kubernetes' gRPC probes and grpcurl see it: tei.v1 beside inferd.v1,
// grpc.health.v1 following readiness, server reflection, and INVALID_ARGUMENT for bytes that are not the message.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <set>

#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "proto/grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "proto/inferd/v1/inferd.grpc.pb.h"
#include "proto/tei/v1/tei.grpc.pb.h"
#include "served_inferd.h"
#include "tests/support/required_tool.h"

namespace tpustack::inferd::testing {
namespace {

using grpc::health::v1::HealthCheckResponse;

// An embedder and a reranker, so each tei.v1 call has exactly one model that can serve it, as TEI has.
std::vector<std::string> embedder_and_reranker() {
  const std::string models = ServedInferd::tiny_models();
  return {"--model",   "embedder=" + models + "/f32-mean",
          "--model",   "reranker=" + models + "/cross-encoder",
          "--preload", "embedder,reranker",
          "--threads", "1"};
}

class TeiGrpc : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (ServedInferd::tiny_models().empty()) return;
    server_ = new ServedInferd(embedder_and_reranker());
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    delete channel_;
    delete server_;
    channel_ = nullptr;
    server_ = nullptr;
  }
  void SetUp() override { TPUSTACK_REQUIRE_SETUP(server_ != nullptr, "python3-numpy (it writes the tiny models)"); }
  static std::shared_ptr<grpc::Channel> channel() { return *channel_; }

  static ServedInferd* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

ServedInferd* TeiGrpc::server_ = nullptr;
std::shared_ptr<grpc::Channel>* TeiGrpc::channel_ = nullptr;

tei::v1::EmbedRequest embed_request(const std::string& text) {
  tei::v1::EmbedRequest request;
  request.set_inputs(text);
  request.set_normalize(true);
  return request;
}

double norm(const tei::v1::EmbedResponse& response) {
  double sum = 0;
  for (float v : response.embeddings()) sum += double(v) * v;
  return std::sqrt(sum);
}

TEST_F(TeiGrpc, EmbedAnswersOneUnitVectorWithMetadata) {
  auto stub = tei::v1::Embed::NewStub(channel());
  grpc::ClientContext context;
  tei::v1::EmbedResponse response;
  const grpc::Status status = stub->Embed(&context, embed_request("hello world"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.embeddings_size(), 32);
  EXPECT_NEAR(norm(response), 1.0, 1e-4);
  EXPECT_EQ(response.metadata().compute_tokens(), 4u);  // [CLS] hello world [SEP]
  EXPECT_EQ(response.metadata().compute_chars(), 11u);
  EXPECT_GT(response.metadata().total_time_ns(), 0u);
}

TEST_F(TeiGrpc, EmbedStreamAnswersEachMessageInOrderAsUnaryDoes) {
  auto stub = tei::v1::Embed::NewStub(channel());
  const std::vector<std::string> texts{"hello world", "the lazy dog", "fast search engine"};
  std::vector<tei::v1::EmbedResponse> alone(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->Embed(&context, embed_request(texts[i]), &alone[i]).ok());
  }
  grpc::ClientContext context;
  auto stream = stub->EmbedStream(&context);
  for (const std::string& text : texts) ASSERT_TRUE(stream->Write(embed_request(text)));
  ASSERT_TRUE(stream->WritesDone());
  tei::v1::EmbedResponse response;
  size_t answered = 0;
  while (stream->Read(&response)) {
    ASSERT_LT(answered, texts.size());
    ASSERT_EQ(response.embeddings_size(), alone[answered].embeddings_size());
    for (int j = 0; j < response.embeddings_size(); ++j) {
      EXPECT_NEAR(response.embeddings(j), alone[answered].embeddings(j), 1e-5) << texts[answered];
    }
    ++answered;
  }
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answered, texts.size());
}

// More messages than are answered at once, and a bad one late: every message before it is answered, in order, and
// the stream ends with the bad one's status.
TEST_F(TeiGrpc, EmbedStreamAnswersInOrderUpToAFailure) {
  auto stub = tei::v1::Embed::NewStub(channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub->EmbedStream(&context);
  constexpr int good = 70;
  for (int i = 0; i < good; ++i) {
    ASSERT_TRUE(stream->Write(embed_request(i % 2 ? "hello world" : "the lazy dog fast search engine")));
  }
  tei::v1::EmbedRequest bad = embed_request("hello");
  bad.set_prompt_name("no-such-prompt");
  stream->Write(bad);
  stream->Write(embed_request("never answered"));
  stream->WritesDone();
  tei::v1::EmbedResponse response;
  int answered = 0;
  while (stream->Read(&response)) {
    // Inputs alternate between 8 and 4 tokens, so the order shows in compute_tokens.
    EXPECT_EQ(response.metadata().compute_tokens(), answered % 2 ? 4u : 8u) << answered;
    ++answered;
  }
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(answered, good);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("no-such-prompt"), std::string::npos) << status.error_message();
}

TEST_F(TeiGrpc, InfoDescribesTheEmbedder) {
  auto stub = tei::v1::Info::NewStub(channel());
  grpc::ClientContext context;
  tei::v1::InfoResponse info;
  ASSERT_TRUE(stub->Info(&context, {}, &info).ok());
  EXPECT_EQ(info.model_id(), "embedder");
  EXPECT_EQ(info.model_type(), tei::v1::MODEL_TYPE_EMBEDDING);
  EXPECT_EQ(info.model_dtype(), "float32");
  EXPECT_FALSE(info.version().empty());
  EXPECT_GT(info.max_input_length(), 0u);
  EXPECT_GT(info.max_batch_tokens(), 0u);
}

TEST_F(TeiGrpc, RerankAndRerankStreamRankTheSamePairsAlike) {
  auto stub = tei::v1::Rerank::NewStub(channel());
  const std::vector<std::string> texts{"a cat", "fast search engine", "the dog"};
  tei::v1::RerankRequest request;
  request.set_query("what is a cat");
  for (const auto& text : texts) request.add_texts(text);
  request.set_return_text(true);
  tei::v1::RerankResponse unary;
  {
    grpc::ClientContext context;
    const grpc::Status status = stub->Rerank(&context, request, &unary);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(unary.ranks_size(), 3);
  for (int i = 1; i < unary.ranks_size(); ++i) EXPECT_GE(unary.ranks(i - 1).score(), unary.ranks(i).score());
  EXPECT_EQ(unary.ranks(0).text(), texts[unary.ranks(0).index()]);

  grpc::ClientContext context;
  tei::v1::RerankResponse streamed;
  auto stream = stub->RerankStream(&context, &streamed);
  for (size_t i = 0; i < texts.size(); ++i) {
    tei::v1::RerankStreamRequest pair;
    pair.set_query("what is a cat");
    pair.set_text(texts[i]);
    pair.set_return_text(i == 0);  // the first message's choice holds for all
    ASSERT_TRUE(stream->Write(pair));
  }
  ASSERT_TRUE(stream->WritesDone());
  const grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(streamed.ranks_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(streamed.ranks(i).index(), unary.ranks(i).index());
    EXPECT_NEAR(streamed.ranks(i).score(), unary.ranks(i).score(), 1e-5);
    EXPECT_TRUE(streamed.ranks(i).has_text());
  }
}

TEST_F(TeiGrpc, PredictScoresATextAndAPairWithTheClassifier) {
  auto stub = tei::v1::Predict::NewStub(channel());
  tei::v1::PredictPairRequest pair;
  pair.add_inputs("what is a cat");
  pair.add_inputs("a cat");
  tei::v1::PredictResponse response;
  {
    grpc::ClientContext context;
    const grpc::Status status = stub->PredictPair(&context, pair, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(response.predictions_size(), 1);  // the cross-encoder's one label
  EXPECT_GT(response.predictions(0).score(), 0.0f);
  EXPECT_LT(response.predictions(0).score(), 1.0f);
  pair.add_inputs("a third text");
  grpc::ClientContext context;
  EXPECT_EQ(stub->PredictPair(&context, pair, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TeiGrpc, TokenizeThenDecodeGivesTheTextBack) {
  auto stub = tei::v1::Tokenize::NewStub(channel());
  tei::v1::EncodeRequest request;
  request.set_inputs("hello world, searching!");
  request.set_add_special_tokens(true);
  tei::v1::EncodeResponse encoded;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->Tokenize(&context, request, &encoded).ok());
  }
  ASSERT_EQ(encoded.tokens_size(), 8);  // [CLS] hello world , search ##ing ! [SEP]
  EXPECT_TRUE(encoded.tokens(0).special());
  EXPECT_EQ(encoded.tokens(4).text(), "search");
  EXPECT_EQ(encoded.tokens(4).start(), 13u);
  tei::v1::DecodeRequest decode;
  for (const auto& token : encoded.tokens()) decode.add_ids(token.id());
  decode.set_skip_special_tokens(true);
  tei::v1::DecodeResponse decoded;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->Decode(&context, decode, &decoded).ok());
  }
  EXPECT_EQ(decoded.text(), "hello world, searching!");
  decode.set_skip_special_tokens(false);
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->Decode(&context, decode, &decoded).ok());
  }
  EXPECT_EQ(decoded.text(), "[CLS] hello world, searching! [SEP]");
  decode.add_ids(1u << 30);
  grpc::ClientContext context;
  const grpc::Status status = stub->Decode(&context, decode, &decoded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("not in the vocabulary"), std::string::npos) << status.error_message();
}

TEST_F(TeiGrpc, SparseEmbeddingsAreRefusedWithAReason) {
  auto stub = tei::v1::Embed::NewStub(channel());
  grpc::ClientContext context;
  tei::v1::EmbedSparseRequest request;
  request.set_inputs("hello");
  tei::v1::EmbedSparseResponse response;
  const grpc::Status status = stub->EmbedSparse(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_FALSE(status.error_message().empty());
}

// Bytes that are no protobuf message: field 1, length 5, then only two bytes.
grpc::ByteBuffer malformed_bytes() {
  static const std::string bytes(
      "\x0a\x05"
      "ab",
      4);
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

TEST_F(TeiGrpc, MalformedMessagesAreInvalidArgumentWithAMessage) {
  grpc::GenericStub stub(channel());
  for (const char* method : {"/tei.v1.Embed/Embed", "/tei.v1.Info/Info", "/inferd.v1.Inferd/Embed"}) {
    grpc::ClientContext context;
    grpc::ByteBuffer response;
    grpc::Status status;
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;
    const grpc::ByteBuffer request = malformed_bytes();
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      std::lock_guard lock(mu);
      status = std::move(s);
      done = true;
      done_cv.notify_one();
    });
    std::unique_lock lock(mu);
    ASSERT_TRUE(done_cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; })) << method;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(method), std::string::npos) << status.error_message();
  }
  // A stream: grpc++ alone would end it OK at the bad message, as if the client had finished.
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, "/tei.v1.Embed/EmbedStream", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->WriteLast(malformed_bytes(), grpc::WriteOptions(), reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("tei.v1.EmbedRequest"), std::string::npos) << status.error_message();
}

TEST_F(TeiGrpc, ReflectionListsEveryService) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel());
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::set<std::string> names;
  for (const auto& service : response.list_services_response().service()) names.insert(service.name());
  for (const char* name : {"inferd.v1.Inferd", "tei.v1.Info", "tei.v1.Embed", "tei.v1.Predict", "tei.v1.Rerank",
                           "tei.v1.Tokenize", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_TRUE(names.contains(name)) << name;
  }
  // grpcurl describes a method from the file that declares it.
  request.set_file_containing_symbol("tei.v1.Embed");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

HealthCheckResponse::ServingStatus check(grpc::health::v1::Health::Stub& stub, const std::string& service) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status status = stub.Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
  return response.status();
}

// Watch reports each change: NOT_SERVING while the models load (when the watch is in time to see it), SERVING once
// ready, NOT_SERVING again from the first moment of the shutdown drain.
TEST(GrpcHealth, FollowsReadinessFromStartToDrain) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  std::vector<std::string> flags = embedder_and_reranker();
  flags.insert(flags.end(), {"--grace-period", "5s"});
  ServedInferd server(flags, /*wait_ready=*/false);
  auto channel = grpc::CreateChannel(server.grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc::health::v1::HealthCheckRequest request;
  auto watch = stub->Watch(&context, request);
  std::vector<HealthCheckResponse::ServingStatus> seen;
  HealthCheckResponse response;
  while (watch->Read(&response)) {
    seen.push_back(response.status());
    if (response.status() == HealthCheckResponse::SERVING) break;
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), HealthCheckResponse::SERVING);
  for (size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_EQ(seen[i], HealthCheckResponse::NOT_SERVING);
  ASSERT_TRUE(server.process().wait_for_output("ready", std::chrono::seconds(30)));
  for (const char* service : {"", "tei.v1.Embed", "inferd.v1.Inferd"}) {
    EXPECT_EQ(check(*stub, service), HealthCheckResponse::SERVING) << service;
  }

  server.process().signal(SIGTERM);
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(server.process().wait(std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace tpustack::inferd::testing
