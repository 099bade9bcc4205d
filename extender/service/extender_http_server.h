#pragma once

#include <memory>
#include <string>

#include "common/metrics/metrics_registry.h"
#include "extender/service/extender_service.h"

namespace web::http::experimental::listener {
class http_listener;
}

namespace tpustack::extender {

// Serves the verbs kube-scheduler calls (POST /filter, /prioritize, /bind, /preempt; any path prefix,
// so a urlPrefix such as http://host:8888/tpu works too) and GET /healthz, /readyz (cache synced),
// /metrics, /debug/slices.
class ExtenderHttpServer {
 public:
  ExtenderHttpServer(const std::string& host_port, ExtenderService& service, const metrics::MetricsRegistry& registry);
  ~ExtenderHttpServer();
  ExtenderHttpServer(const ExtenderHttpServer&) = delete;
  ExtenderHttpServer& operator=(const ExtenderHttpServer&) = delete;

  // Throws std::runtime_error when the address cannot be bound.
  void start();
  void stop();

 private:
  ExtenderService& service_;
  const metrics::MetricsRegistry& registry_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
  bool running_ = false;
};

}  // namespace tpustack::extender
