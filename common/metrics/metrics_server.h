#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/http/serving_listener.h"
#include "common/metrics/metrics_registry.h"

namespace tpustack::metrics {

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

  // Throws std::runtime_error when the address cannot be bound.
  void start() { listener_.start(); }
  void stop() { listener_.stop(); }

 private:
  void serve(const web::http::http_request& request) const;

  const MetricsRegistry& registry_;
  std::map<std::string, Handler> handlers_;
  http::ServingListener listener_;  // last: closed first
};

}  // namespace tpustack::metrics
