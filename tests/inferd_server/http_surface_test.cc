// inferd's HTTP surface as clients and attackers use it, on a real `inferd serve` process and raw sockets: methods
// (HEAD, OPTIONS, 405, TRACE), malformed framing, pipelining, work limits in tokens, hang-ups, signals, the grace
// period, and the gRPC port.
#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "served_inferd.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/required_tool.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;
using tpustack::testing::RawConnection;
using tpustack::testing::request_bytes;
using namespace std::chrono_literals;

std::string repeated(const std::string& word, size_t bytes) {
  std::string text;
  while (text.size() + word.size() <= bytes) text += word;
  return text;
}

// One server, with the default limits, for the tests that do not stop it.
class HttpSurface : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ServedInferd::tiny_models().empty()) server_ = new ServedInferd(ServedInferd::one_tiny_model());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { TPUSTACK_REQUIRE_SETUP(server_ != nullptr, "python3-numpy (it writes the tiny models)"); }
  static ServedInferd* server_;
};

ServedInferd* HttpSurface::server_ = nullptr;

TEST_F(HttpSurface, HeadAnswersTheGetHeadersWithoutTheBody) {
  const std::string health = server_->get("/health").body;
  RawConnection connection(server_->http_port());
  // Pipelined: a body after the HEAD answer would be read as the start of the next answer.
  ASSERT_TRUE(connection.send(request_bytes("HEAD", "/health") + request_bytes("GET", "/health")));
  auto head = connection.read_response(5s, /*to_head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(health.size()));
  EXPECT_EQ(head.headers["content-type"], "application/json");
  auto get = connection.read_response(5s);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, health);
}

TEST_F(HttpSurface, OptionsAnswersAllowAndAWrongMethodIs405) {
  RawConnection connection(server_->http_port());
  ASSERT_TRUE(connection.send(request_bytes("OPTIONS", "/embed")));
  auto options = connection.read_response(5s);
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.headers["allow"], "POST, OPTIONS");
  ASSERT_TRUE(connection.send(request_bytes("OPTIONS", "/health")));
  EXPECT_EQ(connection.read_response(5s).headers["allow"], "GET, HEAD, OPTIONS");

  ASSERT_TRUE(connection.send(request_bytes("GET", "/embed")));
  auto wrong = connection.read_response(5s);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers["allow"], "POST, OPTIONS");
  EXPECT_EQ(json::parse(wrong.body)["error_type"], "validation") << wrong.body;
  ASSERT_TRUE(connection.send(request_bytes("DELETE", "/v1/embeddings")));
  auto openai = connection.read_response(5s);
  EXPECT_EQ(openai.status, 405);
  EXPECT_TRUE(json::parse(openai.body)["error"].contains("message")) << openai.body;  // OpenAI's error shape
  ASSERT_TRUE(connection.send(request_bytes("POST", "/health", "{}")));
  EXPECT_EQ(connection.read_response(5s).headers["allow"], "GET, HEAD, OPTIONS");
  ASSERT_TRUE(connection.send(request_bytes("GET", "/nowhere")));
  EXPECT_EQ(connection.read_response(5s).status, 404);
}

TEST_F(HttpSurface, TraceIsRefusedWithoutEchoingCredentials) {
  RawConnection connection(server_->http_port());
  ASSERT_TRUE(connection.send(
      request_bytes("TRACE", "/health", "", "Authorization: Bearer s3cret-token\r\nCookie: session=c00kie\r\n")));
  auto refused = connection.read_response(5s);
  EXPECT_EQ(refused.status, 405);
  EXPECT_FALSE(refused.headers["allow"].empty());
  EXPECT_EQ(refused.body.find("s3cret-token"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("c00kie"), std::string::npos) << refused.body;
  EXPECT_TRUE(json::parse(refused.body).contains("error")) << refused.body;
}

TEST_F(HttpSurface, MalformedContentLengthIs400InInferdsFormat) {
  for (const char* length : {"-1", "12abc", "99999999999999999999999"}) {
    RawConnection connection(server_->http_port());
    ASSERT_TRUE(
        connection.send(std::string("POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: ") + length + "\r\n\r\n{}"));
    auto refused = connection.read_response(5s);
    EXPECT_EQ(refused.status, 400) << length;
    EXPECT_TRUE(json::parse(refused.body, nullptr, false).contains("error")) << refused.body;
  }
}

TEST_F(HttpSurface, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection connection(server_->http_port());
  const std::string tokenize = json({{"inputs", "hello world"}}).dump();
  const std::string embed = json({{"inputs", "hello"}}).dump();
  ASSERT_TRUE(connection.send(request_bytes("GET", "/health") + request_bytes("POST", "/tokenize", tokenize) +
                              request_bytes("POST", "/embed", embed) + request_bytes("GET", "/v1/models")));
  auto health = connection.read_response(5s);
  EXPECT_EQ(json::parse(health.body)["status"], "ok") << health.body;
  auto tokens = connection.read_response(10s);
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  EXPECT_EQ(json::parse(tokens.body)[0].size(), 4u) << tokens.body;  // [CLS] hello world [SEP]
  auto vectors = connection.read_response(10s);
  ASSERT_EQ(vectors.status, 200) << vectors.body;
  EXPECT_EQ(json::parse(vectors.body)[0].size(), 32u);
  auto models = connection.read_response(5s);
  EXPECT_EQ(json::parse(models.body)["object"], "list") << models.body;
}

TEST_F(HttpSurface, TokenizeRefusesMoreTokensThanTheLimitWithoutBuildingTheAnswer) {
  // About 170,000 tokens: the answer would have been some 10 MB of JSON.
  const std::string text = repeated("quick ", 1 << 20);
  RawConnection connection(server_->http_port());
  ASSERT_TRUE(connection.send(request_bytes("POST", "/tokenize", json({{"inputs", text}}).dump())));
  auto refused = connection.read_response(30s);
  EXPECT_EQ(refused.status, 413);
  EXPECT_LT(refused.body.size(), 1024u);
  EXPECT_NE(refused.body.find("16384"), std::string::npos) << refused.body;
  // Up to the limit it answers, in proportion.
  auto answered = server_->post("/tokenize", json({{"inputs", repeated("quick ", 60000)}}).dump());
  ASSERT_EQ(answered.status, 200);
  EXPECT_EQ(json::parse(answered.body)[0].size(), 10002u);
}

TEST(HttpSurfaceProcess, AClientHangingUpMidBodyIsLoggedAtDebugOnly) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  auto flags = ServedInferd::one_tiny_model();
  flags.insert(flags.end(), {"--log-level", "debug"});
  ServedInferd server(flags);
  const size_t before = server.process().output().size();
  {
    RawConnection leaving(server.http_port());
    ASSERT_TRUE(leaving.send("POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\": \"hel"));
    std::this_thread::sleep_for(100ms);
  }
  const auto logged = server.process().wait_for_line("connection closed while reading", 10s);
  ASSERT_TRUE(logged.has_value()) << server.process().output();
  EXPECT_NE(logged->find(" D inferd"), std::string::npos) << *logged;
  EXPECT_EQ(server.get("/health").status, 200);
  const std::string output = server.process().output().substr(before);
  EXPECT_EQ(output.find(" E inferd"), std::string::npos) << output;
  EXPECT_EQ(output.find(" W inferd"), std::string::npos) << output;
}

TEST(HttpSurfaceProcess, SighupIsIgnoredAndTheServerKeepsServing) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd server(ServedInferd::one_tiny_model());
  server.process().signal(SIGHUP);
  ASSERT_TRUE(server.process().wait_for_line("SIGHUP ignored", 10s)) << server.process().output();
  EXPECT_TRUE(server.process().running());
  EXPECT_EQ(server.get("/health").status, 200);
  EXPECT_EQ(server.post("/embed", json({{"inputs", "hello"}}).dump()).status, 200);
  EXPECT_EQ(server.process().terminate(30s), 0);
}

TEST(HttpSurfaceProcess, TheGracePeriodHoldsWithStalledClientsAndBusyHandlers) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  auto flags = ServedInferd::one_tiny_model();
  flags.insert(flags.end(), {"--grace-period", "1s", "--max-batch-requests", "1"});
  ServedInferd server(flags);
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 16; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(server.http_port()));
    ASSERT_TRUE(stalled.back()->send("POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"in"));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  const std::string body =
      json({{"inputs", std::vector<std::string>(8, repeated("quick ", 600))}, {"truncate", true}}).dump();
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      try {
        while (!stop) {
          RawConnection connection(server.http_port());
          if (!connection.send(request_bytes("POST", "/embed", body)) || connection.read_response(20s).status == 0) {
            return;
          }
          ++answered;
        }
      } catch (const std::runtime_error&) {
        // the server has stopped listening
      }
    });
  }
  while (answered < 8) std::this_thread::sleep_for(5ms);
  const auto start = std::chrono::steady_clock::now();
  server.process().signal(SIGTERM);
  const auto status = server.process().wait(10s);
  const auto took = std::chrono::steady_clock::now() - start;
  stop = true;
  for (auto& client : clients) client.join();
  EXPECT_TRUE(status.has_value()) << server.process().output();
  // The grace period and about a second to close, with room for a busy machine.
  EXPECT_LT(took, 3500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST(HttpSurfaceProcess, ASecondServerOnTheSameGrpcPortFailsToStart) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd first(ServedInferd::one_tiny_model());
  std::vector<std::string> argv{
      ServedInferd::binary(), "serve", "--listen", "127.0.0.1:" + std::to_string(free_port()), "--grpc-listen",
      first.grpc_address()};
  const auto model = ServedInferd::one_tiny_model();
  argv.insert(argv.end(), model.begin(), model.end());
  ChildProcess second(argv);
  EXPECT_EQ(second.wait(30s), 1);
  second.wait_for_line("", 1s);
  EXPECT_NE(second.output().find("cannot listen for gRPC on " + first.grpc_address()), std::string::npos)
      << second.output();
}

}  // namespace
}  // namespace tpustack::inferd::testing
