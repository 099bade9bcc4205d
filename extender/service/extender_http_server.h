#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "common/http/http_server.h"
#include "common/metrics/metrics_registry.h"
#include "extender/service/extender_service.h"

namespace tpustack::extender {

struct VerbsListenerOptions {
  std::string listen = ":8888";
  std::optional<http::TlsFiles> tls;  // HTTPS; with a client CA, only clients holding a certificate it signed
  // 48 MiB: the Nodes form for 15,000 nodes of ~3 KB (a TPU node's labels, capacity, conditions and addresses,
  // without a long image list). The NodeNames form (nodeCacheCapable, as shipped) needs ~30 bytes a node.
  std::size_t max_request_bytes = 48 << 20;
  int max_in_flight = 64;
  int workers = 8;               // binds wait on the API server; filter and prioritize take the model's lock
  bool debug_endpoints = false;  // GET /debug/slices
};

// Serves the verbs kube-scheduler calls (POST /filter, /prioritize, /bind, /preempt; any path prefix,
// so a urlPrefix such as http://host:8888/tpu works too) and GET /healthz, /readyz (cache synced),
// /metrics, and with debug endpoints /debug/slices. Every refusal, the listener's own included (413, 503,
// 400), is the verb's JSON result type with Error set.
class ExtenderHttpServer {
 public:
  ExtenderHttpServer(const VerbsListenerOptions& options, ExtenderService& service,
                     const metrics::MetricsRegistry& registry);

  // An Error when the address cannot be bound (or, over TLS, the certificate used).
  Result<void> start() { return server_.start(); }
  void stop() { server_.stop(); }
  int port() const { return server_.port(); }
  std::size_t connections() const { return server_.counters().connections; }

 private:
  http::Response serve(const http::Request& request);

  ExtenderService& service_;
  const metrics::MetricsRegistry& registry_;
  bool debug_endpoints_;
  http::HttpServer server_;  // last: stopped first
};

}  // namespace tpustack::extender
