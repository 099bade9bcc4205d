#include "common/metrics/metrics_server.h"

#include <cpprest/http_listener.h>

namespace tpustack::metrics {

using web::http::http_request;
using web::http::methods;
using web::http::status_codes;

MetricsServer::MetricsServer(const std::string& host_port, const MetricsRegistry& registry,
                             std::map<std::string, Handler> handlers)
    : registry_(registry),
      handlers_(std::move(handlers)),
      listener_(host_port, "/metrics", [this](http_request request) { serve(request); }) {}

void MetricsServer::serve(const http_request& request) const {
  const std::string path = request.relative_uri().path();
  if (request.method() != methods::GET) {
    request.reply(status_codes::MethodNotAllowed, "only GET is served here\n");
    return;
  }
  if (path == "/metrics") {
    request.reply(status_codes::OK, registry_.render(), "text/plain; version=0.0.4; charset=utf-8");
    return;
  }
  const auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    request.reply(status_codes::NotFound, "not found: " + path + "\n");
    return;
  }
  const Reply reply = it->second();
  request.reply(static_cast<web::http::status_code>(reply.status), reply.body, reply.content_type);
}

}  // namespace tpustack::metrics
