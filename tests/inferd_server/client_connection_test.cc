// ClientConnection inside a real cpprestsdk listener: a client that hangs up while its request is being
// served is seen as gone; one that waits for its answer is not.
#include "inferd/server/client_connection.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <cpprest/http_listener.h>
#include <gtest/gtest.h>

#include "tests/support/free_port.h"

namespace inferd::server {
namespace {

using namespace std::chrono_literals;
namespace http = web::http;

struct Seen {
  bool found = false;
  bool closed = false;
};

// A listener whose handler finds its connection and watches it for up to `watch`, then answers.
class WatchingListener {
 public:
  explicit WatchingListener(std::chrono::milliseconds watch)
      : port_(tpustack::testing::free_port()), listener_("http://127.0.0.1:" + std::to_string(port_) + "/") {
    listener_.support([this, watch](const http::http_request& request) {
      Seen seen;
      auto connection = ClientConnection::current(request.remote_address());
      seen.found = connection.has_value();
      const auto until = std::chrono::steady_clock::now() + watch;
      while (connection && !seen.closed && std::chrono::steady_clock::now() < until) {
        seen.closed = connection->closed();
        std::this_thread::sleep_for(5ms);
      }
      seen_.set_value(seen);
      request.reply(http::status_codes::OK, "done");
    });
    listener_.open().wait();
  }
  ~WatchingListener() { listener_.close().wait(); }

  // A raw client: connects and sends one request.
  int send_request() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    const std::string request = "GET /work HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    return fd;
  }

  std::future<Seen> seen() { return seen_.get_future(); }

 private:
  int port_;
  http::experimental::listener::http_listener listener_;
  std::promise<Seen> seen_;
};

TEST(ClientConnection, AClientThatHangsUpIsSeenGone) {
  WatchingListener listener(10s);
  auto seen = listener.seen();
  const int fd = listener.send_request();
  std::this_thread::sleep_for(50ms);  // the handler is watching
  close(fd);
  ASSERT_EQ(seen.wait_for(10s), std::future_status::ready);
  const Seen result = seen.get();
  EXPECT_TRUE(result.found);
  EXPECT_TRUE(result.closed);
}

TEST(ClientConnection, AClientWaitingForItsAnswerIsNotGone) {
  WatchingListener listener(300ms);
  auto seen = listener.seen();
  const int fd = listener.send_request();
  ASSERT_EQ(seen.wait_for(10s), std::future_status::ready);
  const Seen result = seen.get();
  EXPECT_TRUE(result.found);
  EXPECT_FALSE(result.closed);
  char answer[256];
  EXPECT_GT(read(fd, answer, sizeof(answer)), 0);  // and it gets its answer
  close(fd);
}

TEST(ClientConnection, OutsideAHandlerThereIsNone) { EXPECT_FALSE(ClientConnection::current("127.0.0.1").has_value()); }

}  // namespace
}  // namespace inferd::server
