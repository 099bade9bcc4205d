#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cpprest/http_client.h>

#include "common/http/listen_address.h"
#include "common/metrics/metrics_server.h"
#include "tests/support/free_port.h"
#include "tests/support/result_matchers.h"

namespace tpustack::metrics {
namespace {

using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::free_port;
using tpustack::testing::value_of;

TEST(ListenAddressTest, AcceptsHostPortForms) {
  EXPECT_EQ(value_of(http::parse_listen_address("0.0.0.0:2112")).host, "0.0.0.0");
  EXPECT_EQ(value_of(http::parse_listen_address("0.0.0.0:2112")).port, 2112);
  EXPECT_EQ(value_of(http::parse_listen_address(":8080")).host, "0.0.0.0");
  EXPECT_EQ(value_of(http::parse_listen_address("127.0.0.1:1")).port, 1);
  for (const char* bad : {"8080", "host:", "host:80a", "host:70000"}) {
    EXPECT_FALSE(http::parse_listen_address(bad).ok()) << bad;
  }
  EXPECT_EQ(value_of(http::parse_listen_address("[::1]:8080")).host, "::1");
}

TEST(MetricsServerTest, ServesMetricsAndHandlers) {
  MetricsRegistry registry;
  registry.counter("served_total", "x").unlabelled().inc(5);
  bool ready = false;
  const int port = free_port();
  MetricsServer server("127.0.0.1:" + std::to_string(port), registry,
                       {{"/healthz",
                         [] {
                           return MetricsServer::Reply{200, "ok\n"};
                         }},
                        {"/readyz", [&] {
                           return MetricsServer::Reply{ready ? 200 : 503, ready ? "ready\n" : "syncing\n"};
                         }}});
  server.start();
  web::http::client::http_client client("http://127.0.0.1:" + std::to_string(port));
  auto get = [&](const std::string& path) { return client.request(web::http::methods::GET, path).get(); };

  auto metrics = get("/metrics");
  EXPECT_EQ(metrics.status_code(), 200);
  EXPECT_NE(metrics.extract_string().get().find("served_total 5"), std::string::npos);
  EXPECT_EQ(metrics.headers().content_type(), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(get("/healthz").status_code(), 200);
  EXPECT_EQ(get("/readyz").status_code(), 503);
  ready = true;
  EXPECT_EQ(get("/readyz").status_code(), 200);
  EXPECT_EQ(get("/nope").status_code(), 404);
  EXPECT_EQ(client.request(web::http::methods::POST, "/metrics").get().status_code(), 405);
  server.stop();
}

TEST(MetricsServerTest, BusyPortIsAClearError) {
  MetricsRegistry registry;
  const int port = free_port();
  MetricsServer first("127.0.0.1:" + std::to_string(port), registry);
  first.start();
  MetricsServer second("127.0.0.1:" + std::to_string(port), registry);
  EXPECT_THAT(second.start(), FailsWith(HasSubstr("cannot serve /metrics on 127.0.0.1:")));
}

}  // namespace
}  // namespace tpustack::metrics
