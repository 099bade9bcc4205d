#include "common/metrics/metrics_server.h"

namespace tpustack::metrics {

namespace {

http::HttpServerOptions server_options(const std::string& host_port) {
  http::HttpServerOptions options;
  options.listen = host_port;
  options.what = "/metrics";
  options.max_body_bytes = 64 << 10;  // GET only
  options.max_buffered_bytes = 1 << 20;
  options.max_in_flight = 16;
  options.workers = 2;
  return options;
}

http::Response reply(int status, std::string body, std::string content_type = "text/plain; charset=utf-8") {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  return response;
}

}  // namespace

MetricsServer::MetricsServer(const std::string& host_port, const MetricsRegistry& registry,
                             std::map<std::string, Handler> handlers)
    : registry_(registry),
      handlers_(std::move(handlers)),
      server_(server_options(host_port), [this](const http::Request& request) { return serve(request); }) {}

http::Response MetricsServer::serve(const http::Request& request) const {
  if (request.method != "GET") {
    auto refused = reply(405, "only GET is served here\n");
    refused.headers.emplace_back("Allow", "GET");
    return refused;
  }
  if (request.path == "/metrics") return reply(200, registry_.render(), "text/plain; version=0.0.4; charset=utf-8");
  const auto it = handlers_.find(request.path);
  if (it == handlers_.end()) return reply(404, "not found: " + request.path + "\n");
  const Reply answer = it->second();
  return reply(answer.status, answer.body, answer.content_type);
}

}  // namespace tpustack::metrics
