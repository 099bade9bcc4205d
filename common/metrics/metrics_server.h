#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/metrics/metrics_registry.h"

namespace web::http::experimental::listener {
class http_listener;
}

namespace tpustack::metrics {

// "0.0.0.0:2112", ":2112", "[::1]:8080" → "http://0.0.0.0:2112". Throws std::invalid_argument.
std::string listen_uri(const std::string& host_port);

// HTTP exposition: GET /metrics renders the registry; other GET paths (/healthz, /readyz, ...)
// are answered by the handlers a program adds. Runs on cpprestsdk's own threads.
class MetricsServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    std::string content_type = "text/plain; charset=utf-8";
  };
  using Handler = std::function<Reply()>;

  MetricsServer(const std::string& host_port, const MetricsRegistry& registry,
                std::map<std::string, Handler> handlers = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Throws std::runtime_error when the address cannot be bound.
  void start();
  void stop();

 private:
  const MetricsRegistry& registry_;
  std::map<std::string, Handler> handlers_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
  bool running_ = false;
};

}  // namespace tpustack::metrics
