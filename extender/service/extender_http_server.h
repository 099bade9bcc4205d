#pragma once

#include <string>

#include "common/http/serving_listener.h"
#include "common/metrics/metrics_registry.h"
#include "extender/service/extender_service.h"

namespace tpustack::extender {

// Serves the verbs kube-scheduler calls (POST /filter, /prioritize, /bind, /preempt; any path prefix,
// so a urlPrefix such as http://host:8888/tpu works too) and GET /healthz, /readyz (cache synced),
// /metrics, /debug/slices.
class ExtenderHttpServer {
 public:
  ExtenderHttpServer(const std::string& host_port, ExtenderService& service, const metrics::MetricsRegistry& registry);

  // Throws std::runtime_error when the address cannot be bound.
  void start() { listener_.start(); }
  void stop() { listener_.stop(); }

 private:
  void serve(web::http::http_request request);

  ExtenderService& service_;
  const metrics::MetricsRegistry& registry_;
  http::ServingListener listener_;  // last: closed first
};

}  // namespace tpustack::extender
