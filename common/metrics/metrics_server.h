#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/http/http_server.h"
#include "common/metrics/metrics_registry.h"

namespace tpustack::metrics {

// HTTP exposition: GET /metrics renders the registry; other GET paths (/healthz, /readyz, ...)
// are answered by the handlers a program adds, on the server's own threads (common/http).
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

  // An Error when the address cannot be bound (or, over TLS, the certificate used).
  Result<void> start() { return server_.start(); }
  void stop() { server_.stop(); }
  int port() const { return server_.port(); }

 private:
  http::Response serve(const http::Request& request) const;

  const MetricsRegistry& registry_;
  std::map<std::string, Handler> handlers_;
  http::HttpServer server_;  // last: stopped first
};

}  // namespace tpustack::metrics
