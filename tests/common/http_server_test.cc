#include "common/http/http_server.h"

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "tests/support/raw_http_client.h"
#include "tests/support/result_matchers.h"

namespace tpustack::http {
namespace {

using testing::FailsWith;
using ::testing::HasSubstr;
using testing::RawConnection;
using testing::request_bytes;
using testing::round_trip;
using testing::Succeeds;
using namespace std::chrono_literals;

// Holds handlers that ask for it until released, as a slow API server holds /bind.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_waiting(int count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return waiting_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

HttpServerOptions local(HttpServerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  options.what = "test surface";
  return options;
}

Response echo(const Request& request) {
  Response response;
  response.body = request.method + " " + request.path + " " + request.body;
  return response;
}

Response json_refusal(const Request& request, int status, const std::string& reason) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = R"({"Error":")" + reason + R"(","path":")" + request.path + "\"}";
  return response;
}

TEST(HttpServerTest, AnswersKeepsAliveAndAnswersPipelinedRequestsInOrder) {
  HttpServer server(local(), echo);
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request_bytes("POST", "/a?x=1", "one")));
  auto first = connection.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "POST /a one");
  ASSERT_TRUE(connection.send(request_bytes("POST", "/b", "two") + request_bytes("GET", "/c")));
  EXPECT_EQ(connection.read_response().body, "POST /b two");
  EXPECT_EQ(connection.read_response().body, "GET /c ");
}

TEST(HttpServerTest, AnswersHeadAsGetWithoutTheBody) {
  HttpServer server(local(), echo);
  server.start();
  RawConnection connection(server.port());
  // Pipelined: a body sent after the HEAD answer would be read as the start of the next answer.
  ASSERT_TRUE(connection.send(request_bytes("HEAD", "/a") + request_bytes("GET", "/a")));
  auto head = connection.read_response(2s, /*to_head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(std::string("GET /a ").size()));
  auto get = connection.read_response(2s);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET /a ");
}

TEST(HttpServerTest, RefusesTraceWithoutEchoingTheRequest) {
  HttpServer server(local(), echo, json_refusal);
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request_bytes("TRACE", "/a", "", "Authorization: Bearer s3cret\r\nCookie: c00kie\r\n")));
  auto refused = connection.read_response(2s);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(refused.body.find("s3cret"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("c00kie"), std::string::npos) << refused.body;
  // The connection carries the next request.
  ASSERT_TRUE(connection.send(request_bytes("GET", "/b")));
  EXPECT_EQ(connection.read_response(2s).body, "GET /b ");
}

// A handler that waits (for a batch, an API call) can tell that its client left and drop the work.
TEST(HttpServerTest, AHandlerCanTellThatItsClientHungUp) {
  std::atomic<int> gone{-1};
  HttpServer server(local(), [&](const Request& request) {
    const auto until = std::chrono::steady_clock::now() + (request.path == "/leaving" ? 5s : 300ms);
    while (!request.client_gone() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    gone = request.client_gone();
    return echo(request);
  });
  server.start();
  {
    RawConnection waiting(server.port());
    ASSERT_TRUE(waiting.send(request_bytes("POST", "/staying", "x")));
    EXPECT_EQ(waiting.read_response(5s).status, 200);
    EXPECT_EQ(gone.load(), 0);
  }
  gone = -1;
  {
    RawConnection leaving(server.port());
    ASSERT_TRUE(leaving.send(request_bytes("POST", "/leaving", "x")));
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (gone.load() == -1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(gone.load(), 1);
  EXPECT_FALSE(Request{}.client_gone()) << "no connection to ask about";
}

// A started server taking bodies of at most 1,000 bytes, refusing in JSON.
std::unique_ptr<HttpServer> small_bodies_server() {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  auto server = std::make_unique<HttpServer>(local(options), echo, json_refusal);
  server->start();
  return server;
}

TEST(HttpServerTest, RefusesABodyOverTheLimitFromItsContentLengthBeforeReadingIt) {
  auto server = small_bodies_server();
  RawConnection connection(server->port());
  ASSERT_TRUE(connection.send("POST /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n"));
  auto refused = connection.read_response(2s);
  EXPECT_EQ(refused.status, 413);
  EXPECT_EQ(refused.headers["content-type"], "application/json");
  EXPECT_NE(refused.body.find("\"path\":\"/filter\""), std::string::npos) << refused.body;
  EXPECT_TRUE(connection.closed_by_peer(2s));
  EXPECT_EQ(server->counters().buffered_bytes, 0u);
}

TEST(HttpServerTest, CutsAChunkedBodyOffAtTheLimit) {
  auto server = small_bodies_server();
  RawConnection connection(server->port());
  ASSERT_TRUE(connection.send("POST /filter HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "200\r\n" + std::string(0x200, 'a') + "\r\n";
  bool refused_early = false;
  for (int i = 0; i < 8 && !refused_early; ++i) refused_early = !connection.send(chunk);
  EXPECT_EQ(connection.read_response(2s).status, 413);
}

TEST(HttpServerTest, AnUploadRouteTakesLargerBodiesThanEveryOtherPath) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  options.upload_route = [](std::string_view path) { return path == "/upload"; };
  options.max_upload_bytes = 5000;
  HttpServer server(local(options), echo, json_refusal);
  server.start();
  const std::string body(3000, 'a');
  EXPECT_EQ(round_trip(server.port(), "POST", "/upload?purpose=batch", body).status, 200);
  const auto refused = round_trip(server.port(), "POST", "/filter", body);
  EXPECT_EQ(refused.status, 413);
  EXPECT_NE(refused.body.find("larger than 1000 bytes"), std::string::npos) << refused.body;
  RawConnection chunked(server.port());
  ASSERT_TRUE(chunked.send("POST /filter HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "200\r\n" + std::string(0x200, 'a') + "\r\n";
  bool refused_early = false;
  for (int i = 0; i < 4 && !refused_early; ++i) refused_early = !chunked.send(chunk);
  EXPECT_EQ(chunked.read_response(2s).status, 413);
  RawConnection too_big(server.port());
  ASSERT_TRUE(too_big.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 6000\r\n\r\n"));
  EXPECT_EQ(too_big.read_response(2s).status, 413);
}

TEST(HttpServerTest, AnswersMalformedRequestsWith400) {
  HttpServer server(local(), echo, json_refusal);
  server.start();
  for (const char* bad : {"GARBAGE\r\n\r\n", "POST /bind HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                          "POST /bind HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}) {
    RawConnection connection(server.port());
    ASSERT_TRUE(connection.send(bad));
    EXPECT_EQ(connection.read_response(2s).status, 400) << bad;
  }
}

TEST(HttpServerTest, BeyondTheInFlightCapAnswers503WithRetryAfterAtOnce) {
  Gate gate;
  HttpServerOptions options;
  options.max_in_flight = 2;
  options.workers = 2;
  options.inline_route = [](const Request& request) { return request.path == "/healthz"; };
  HttpServer server(
      local(options),
      [&](const Request& request) {
        if (request.path == "/slow") gate.wait();
        return echo(request);
      },
      json_refusal);
  server.start();
  RawConnection slow1(server.port()), slow2(server.port());
  ASSERT_TRUE(slow1.send(request_bytes("POST", "/slow", "1")));
  ASSERT_TRUE(slow2.send(request_bytes("POST", "/slow", "2")));
  ASSERT_TRUE(gate.wait_for_waiting(2));

  const auto start = std::chrono::steady_clock::now();
  auto busy = round_trip(server.port(), "POST", "/bind", "{}");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.headers["retry-after"], "1");
  EXPECT_EQ(busy.headers["content-type"], "application/json");
  // Probes answer on the reading thread while every worker is held.
  EXPECT_EQ(round_trip(server.port(), "GET", "/healthz").status, 200);

  gate.open();
  EXPECT_EQ(slow1.read_response().body, "POST /slow 1");
  EXPECT_EQ(slow2.read_response().body, "POST /slow 2");
  EXPECT_EQ(round_trip(server.port(), "POST", "/bind", "{}").status, 200);
}

TEST(HttpServerTest, StalledClientsHoldNoThreadAndGoAwayCleanly) {
  HttpServer server(local(), echo);
  server.start();
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 200; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(server.port()));
    // Half stop inside their headers, half after 10 of 1000 promised body bytes.
    stalled.back()->send(i % 2 == 0 ? "POST /filter HTTP/1.1\r\nHost: x\r\nContent-Le"
                                    : "POST /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
  }
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(round_trip(server.port(), "POST", "/prioritize", "{}").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  }
  stalled.clear();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.counters().connections > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.counters().connections, 0u);
  EXPECT_EQ(server.counters().buffered_bytes, 0u);
}

TEST(HttpServerTest, DisconnectsAClientThatStallsPastTheRequestTimeout) {
  HttpServerOptions options;
  options.request_timeout = 300ms;
  HttpServer server(local(options), echo);
  server.start();
  RawConnection stalled(server.port());
  ASSERT_TRUE(stalled.send("POST /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  EXPECT_TRUE(stalled.closed_by_peer(3s));
}

TEST(HttpServerTest, BodiesInTransitTogetherStayWithinTheBudget) {
  HttpServerOptions options;
  options.max_body_bytes = 800;
  options.max_buffered_bytes = 1000;
  HttpServer server(local(options), echo, json_refusal);
  server.start();
  RawConnection first(server.port());
  ASSERT_TRUE(first.send("POST /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n" + std::string(700, 'a')));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.counters().buffered_bytes < 700 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  RawConnection second(server.port());
  ASSERT_TRUE(second.send("POST /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n" + std::string(700, 'b')));
  EXPECT_EQ(second.read_response(2s).status, 503);
  // The first one, within the budget, completes.
  ASSERT_TRUE(first.send(std::string(100, 'a')));
  EXPECT_EQ(first.read_response(2s).status, 200);
}

TEST(HttpServerTest, AHandlerThatThrowsGetsA500InTheSurfacesFormat) {
  HttpServer server(
      local(), [](const Request&) -> Response { throw std::runtime_error("boom"); }, json_refusal);
  server.start();
  auto answer = round_trip(server.port(), "POST", "/bind", "{}");
  EXPECT_EQ(answer.status, 500);
  EXPECT_NE(answer.body.find("boom"), std::string::npos);
}

TEST(HttpServerTest, StopClosesKeptAliveConnections) {
  HttpServer server(local(), echo);
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request_bytes("GET", "/x")));
  EXPECT_EQ(connection.read_response().status, 200);
  server.stop();
  EXPECT_TRUE(connection.closed_by_peer(2s));
}

// Server-sent events as an OpenAI streaming completion sends them: `events`, then [DONE]; the producer stops when
// a write fails.
Response event_stream(std::vector<std::string> events) {
  Response response;
  response.content_type = "text/event-stream";
  response.headers.emplace_back("Cache-Control", "no-cache");
  events.push_back("[DONE]");
  response.stream = [events = std::move(events)](ResponseStream& out) {
    for (const auto& event : events) {
      if (!out.write("data: " + event + "\n\n")) return;
    }
  };
  return response;
}

// /events streams three events, every other path echoes.
Response events_or_echo(const Request& request) {
  return request.path == "/events" ? event_stream({"1", "2", "3"}) : echo(request);
}

TEST(HttpServerTest, StreamsAnAnswerInChunksAndKeepsTheConnectionAlive) {
  HttpServer server(local(), events_or_echo);
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request_bytes("GET", "/events")));
  const auto head = connection.read_head();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.at("transfer-encoding"), "chunked");
  EXPECT_EQ(head.headers.at("content-type"), "text/event-stream");
  EXPECT_EQ(head.headers.at("cache-control"), "no-cache");
  EXPECT_EQ(head.headers.count("content-length"), 0u);
  for (const char* event : {"data: 1\n\n", "data: 2\n\n", "data: 3\n\n", "data: [DONE]\n\n", ""}) {
    EXPECT_EQ(connection.read_chunk(), event);
  }
  ASSERT_TRUE(connection.send(request_bytes("POST", "/b", "two") + request_bytes("GET", "/events")));
  EXPECT_EQ(connection.read_response().body, "POST /b two");
  EXPECT_EQ(connection.read_response().body, "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: [DONE]\n\n");
  EXPECT_EQ(server.counters().in_flight, 0u);
}

TEST(HttpServerTest, SendsEachStreamedEventAsItIsWritten) {
  Gate first_read;
  HttpServer server(local(), [&](const Request&) {
    Response response;
    response.stream = [&](ResponseStream& out) {
      out.write("data: first\n\n");
      first_read.wait();
      out.write("data: second\n\n");
    };
    return response;
  });
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request_bytes("POST", "/v1/completions", "{}")));
  EXPECT_EQ(connection.read_head().status, 200);
  const auto first = connection.read_chunk();
  first_read.open();
  EXPECT_EQ(first, "data: first\n\n") << "the first event waits for nothing after it";
  EXPECT_EQ(connection.read_chunk(), "data: second\n\n");
  EXPECT_EQ(connection.read_chunk(), "");
}

// Waits for the producer's last write to return; nullopt when it did not return within the (generous) wait.
std::optional<int> writes_until_refused(std::future<int>& writes) {
  if (writes.wait_for(20s) != std::future_status::ready) return std::nullopt;
  return writes.get();
}

// A producer that writes `chunk` until a write returns false (at most `limit` times); it reports how many it wrote.
Response flood(std::string chunk, int limit, Gate& start, std::promise<int>& writes) {
  Response response;
  response.stream = [chunk = std::move(chunk), limit, &start, &writes](ResponseStream& out) {
    start.wait();
    int written = 0;
    while (written < limit && out.write(chunk)) ++written;
    writes.set_value(written);
  };
  return response;
}

TEST(HttpServerTest, AProducerLearnsThatItsClientHungUp) {
  Gate hung_up;
  std::promise<int> writes;
  auto refused = writes.get_future();
  HttpServer server(local(), [&](const Request& request) {
    return request.path == "/flood" ? flood("data: tick\n\n", 1 << 20, hung_up, writes) : echo(request);
  });
  server.start();
  {
    RawConnection connection(server.port());
    EXPECT_TRUE(connection.send(request_bytes("GET", "/flood")));
    EXPECT_EQ(connection.read_head().status, 200);
  }
  hung_up.open();
  const auto written = writes_until_refused(refused);
  ASSERT_TRUE(written.has_value()) << "the producer still writes";
  EXPECT_LT(*written, 1 << 20);
  EXPECT_EQ(round_trip(server.port(), "GET", "/after").body, "GET /after ");
  EXPECT_EQ(server.counters().in_flight, 0u);
}

TEST(HttpServerTest, AStreamToAClientThatStopsReadingTimesOutAndFreesItsWorker) {
  HttpServerOptions options;
  options.workers = 1;
  options.stream_write_timeout = 200ms;
  options.max_stream_buffer_bytes = 64 << 10;
  Gate go;
  go.open();
  std::promise<int> writes;
  auto refused = writes.get_future();
  HttpServer server(local(options), [&](const Request& request) {
    return request.path == "/flood" ? flood(std::string(64 << 10, 'x'), 1 << 14, go, writes) : echo(request);
  });
  server.start();
  RawConnection never_reads(server.port());
  ASSERT_TRUE(never_reads.send(request_bytes("GET", "/flood")));
  const auto written = writes_until_refused(refused);
  ASSERT_TRUE(written.has_value()) << "the producer still waits";
  EXPECT_LT(*written, 1 << 14) << "1 GiB went to a client that reads nothing";
  // The only worker answers the next request.
  EXPECT_EQ(round_trip(server.port(), "GET", "/after").body, "GET /after ");
  EXPECT_EQ(server.counters().in_flight, 0u);
}

TEST(HttpServerTest, AnswersHeadToAStreamWithItsHeadersOnly) {
  std::atomic<bool> produced{false};
  HttpServer server(local(), [&](const Request& request) {
    Response response = events_or_echo(request);
    if (response.stream) response.stream = [&](ResponseStream&) { produced = true; };
    return response;
  });
  server.start();
  RawConnection connection(server.port());
  // Pipelined: a chunk sent after the HEAD answer would be read as the start of the next answer.
  ASSERT_TRUE(connection.send(request_bytes("HEAD", "/events") + request_bytes("GET", "/a")));
  const auto head = connection.read_head();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.at("transfer-encoding"), "chunked");
  EXPECT_EQ(connection.read_response().body, "GET /a ");
  EXPECT_FALSE(produced.load());
}

TEST(HttpServerTest, StreamsToAnHttp10ClientUnchunkedUntilItCloses) {
  HttpServer server(local(), events_or_echo);
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send("GET /events HTTP/1.0\r\n\r\n"));
  const auto answer = connection.read_response();
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(answer.body, "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: [DONE]\n\n");
  EXPECT_TRUE(connection.closed_by_peer(2s));
}

TEST(HttpServerTest, AProducerThatThrowsCutsItsStreamOffUnfinished) {
  HttpServer server(local(), [](const Request&) {
    Response response;
    response.stream = [](ResponseStream& out) {
      out.write("data: 1\n\n");
      throw std::runtime_error("the engine failed");
    };
    return response;
  });
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request_bytes("GET", "/events")));
  EXPECT_EQ(connection.read_head().status, 200);
  EXPECT_EQ(connection.read_chunk(), "data: 1\n\n");
  EXPECT_EQ(connection.read_chunk(2s), std::nullopt) << "no last chunk";
  EXPECT_TRUE(connection.closed_by_peer(2s));
}

TEST(HttpServerTest, AnInlineRouteCannotStream) {
  HttpServerOptions options;
  options.inline_route = [](const Request&) { return true; };
  HttpServer server(local(options), events_or_echo, json_refusal);
  server.start();
  const auto answer = round_trip(server.port(), "GET", "/events");
  EXPECT_EQ(answer.status, 500);
  EXPECT_EQ(answer.headers.at("content-type"), "application/json");
}

TEST(HttpServerTest, StopEndsOpenStreams) {
  Gate go;
  go.open();
  std::promise<int> writes;
  auto refused = writes.get_future();
  HttpServer server(local(), [&](const Request&) { return flood("data: tick\n\n", 1 << 30, go, writes); });
  server.start();
  RawConnection connection(server.port());
  ASSERT_TRUE(connection.send(request_bytes("GET", "/events")));
  EXPECT_EQ(connection.read_head().status, 200);
  EXPECT_EQ(connection.read_chunk(), "data: tick\n\n");
  server.stop();
  // stop() waited for the producer, whose write returned false.
  ASSERT_EQ(refused.wait_for(0s), std::future_status::ready);
  EXPECT_LT(refused.get(), 1 << 30);
  EXPECT_TRUE(connection.closed_by_peer(2s));
}

TEST(HttpServerTest, NamesTheAddressItCannotServe) {
  HttpServer first(local(), echo);
  first.start();
  HttpServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(first.port());
  options.what = "second surface";
  HttpServer second(options, echo);
  EXPECT_THAT(second.start(), FailsWith(HasSubstr("cannot serve second surface on 127.0.0.1:")));
  options.listen = "nonsense";
  HttpServer unusable(options, echo);
  EXPECT_THAT(unusable.start(), FailsWith(HasSubstr("invalid listen address 'nonsense'")));
}

// TLS, as kube-scheduler's extender client speaks it (enableHTTPS with a client certificate).
class TlsTest : public ::testing::Test {
 protected:
  static std::string file(const std::string& name) {
    return std::string(TPUSTACK_SOURCE_DIR) + "/tests/common/data/tls/" + name;
  }

  // Status of GET /x over TLS with the given client certificate ("" for none); 0 when the handshake or the
  // request failed.
  static int get(int port, const std::string& client_cert, const std::string& client_key) {
    const std::string reply = exchange(port, "/x", client_cert, client_key);
    if (reply.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(reply.substr(9, 3));
  }

  // The bytes answering GET `path` over TLS, read until the server closes; "" when the handshake or the request
  // failed.
  static std::string exchange(int port, const std::string& path, const std::string& client_cert,
                              const std::string& client_key) {
    namespace asio = boost::asio;
    namespace ssl = asio::ssl;
    try {
      asio::io_context io;
      ssl::context context(ssl::context::tls_client);
      context.load_verify_file(file("ca.pem"));
      context.set_verify_mode(ssl::verify_peer);
      if (!client_cert.empty()) {
        context.use_certificate_chain_file(file(client_cert));
        context.use_private_key_file(file(client_key), ssl::context::pem);
      }
      ssl::stream<asio::ip::tcp::socket> stream(io, context);
      stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
      stream.handshake(ssl::stream_base::client);
      const std::string request = request_bytes("GET", path, "", "Connection: close\r\n");
      asio::write(stream, asio::buffer(request));
      std::string reply;
      boost::system::error_code ec;
      char buffer[4096];
      for (;;) {
        const size_t got = stream.read_some(asio::buffer(buffer), ec);
        reply.append(buffer, got);
        if (ec) break;
      }
      return reply;
    } catch (const std::exception&) {
      return "";
    }
  }
};

TEST_F(TlsTest, ServesHttpsAndWithAClientCaOnlyClientsItSigned) {
  HttpServerOptions options = local();
  options.tls = TlsFiles{file("server.pem"), file("server-key.pem"), file("ca.pem")};
  HttpServer server(options, echo);
  server.start();
  EXPECT_EQ(get(server.port(), "client.pem", "client-key.pem"), 200);
  EXPECT_EQ(get(server.port(), "", ""), 0) << "no client certificate";
  EXPECT_EQ(get(server.port(), "stranger.pem", "stranger-key.pem"), 0) << "a certificate the CA did not sign";
  // Plain HTTP to the TLS port gets no answer either.
  EXPECT_NE(round_trip(server.port(), "GET", "/x").status, 200);
}

TEST_F(TlsTest, StreamsAnAnswerOverHttps) {
  HttpServerOptions options = local();
  options.tls = TlsFiles{file("server.pem"), file("server-key.pem"), ""};
  HttpServer server(options, events_or_echo);
  server.start();
  const std::string reply = exchange(server.port(), "/events", "", "");
  EXPECT_THAT(reply, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(reply, ::testing::EndsWith("\r\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n9\r\ndata: 3\n\n\r\n"
                                         "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"));
}

TEST_F(TlsTest, WithoutAClientCaAnyTlsClientIsServed) {
  HttpServerOptions options = local();
  options.tls = TlsFiles{file("server.pem"), file("server-key.pem"), ""};
  HttpServer server(options, echo);
  server.start();
  EXPECT_EQ(get(server.port(), "", ""), 200);
}

// A certificate rotated while serving (cert-manager's renewal): new connections get the new one.
TEST_F(TlsTest, AReplacedCertificateServesNewConnections) {
  auto text = [](const std::string& name) {
    std::ifstream in(file(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  HttpServerOptions options = local();
  options.tls_certificate = TlsCertificate{text("stranger.pem"), text("stranger-key.pem")};
  HttpServer server(options, echo);
  server.start();
  EXPECT_EQ(get(server.port(), "", ""), 0) << "a certificate the test CA did not sign";
  ASSERT_THAT(server.use_certificate({text("server.pem"), text("server-key.pem")}), Succeeds());
  EXPECT_EQ(get(server.port(), "", ""), 200);
  EXPECT_THAT(server.use_certificate({text("server.pem"), text("stranger-key.pem")}),
              FailsWith(HasSubstr("cannot use the TLS private key: key values mismatch")));
  EXPECT_EQ(get(server.port(), "", ""), 200) << "a refused pair leaves the served one";
  HttpServer plain(local(), echo);
  EXPECT_THROW(plain.use_certificate({text("server.pem"), text("server-key.pem")}), std::logic_error);
}

TEST_F(TlsTest, NamesAnUnreadableCertificate) {
  HttpServerOptions options = local();
  options.tls = TlsFiles{"/nonexistent/cert.pem", file("server-key.pem"), ""};
  HttpServer server(options, echo);
  EXPECT_THAT(server.start(), FailsWith(HasSubstr("cannot read TLS certificate /nonexistent/cert.pem")));
}

}  // namespace
}  // namespace tpustack::http
