#include "extender/service/extender_http_server.h"

#include <map>

#include "extender/wire/extender_codec.h"

namespace tpustack::extender {

namespace {

constexpr const char* kJson = "application/json";

std::string last_segment(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

http::Response text(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

http::Response json(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = kJson;
  response.body = std::move(body);
  return response;
}

http::HttpServerOptions server_options(const VerbsListenerOptions& options) {
  http::HttpServerOptions server;
  server.listen = options.listen;
  server.what = "extender verbs";
  server.tls = options.tls;
  server.max_body_bytes = options.max_request_bytes;
  // One request of the largest size at a time beside the usual small ones: its parse costs several times its size.
  server.max_buffered_bytes = options.max_request_bytes + (16 << 20);
  server.max_in_flight = options.max_in_flight;
  server.workers = options.workers;
  // Probes answer from the reading thread, so a burst of slow binds never fails a liveness probe.
  server.inline_route = [](const http::Request& request) {
    const std::string verb = last_segment(request.path);
    return request.method == "GET" && (verb == "healthz" || verb == "readyz");
  };
  return server;
}

}  // namespace

ExtenderHttpServer::ExtenderHttpServer(const VerbsListenerOptions& options, ExtenderService& service,
                                       const metrics::MetricsRegistry& registry)
    : service_(service),
      registry_(registry),
      debug_endpoints_(options.debug_endpoints),
      server_(
          server_options(options), [this](const http::Request& request) { return serve(request); },
          [](const http::Request& request, int status, const std::string& reason) {
            return json(status, wire::encode_verb_error(last_segment(request.path), reason));
          }) {}

http::Response ExtenderHttpServer::serve(const http::Request& request) {
  const std::string verb = last_segment(request.path);
  if (request.method == "GET") {
    if (verb == "healthz") return text(200, "ok\n");
    if (verb == "readyz") return service_.synced() ? text(200, "ok\n") : text(503, "cache not synced\n");
    if (verb == "metrics") {
      service_.refresh_gauges();
      auto response = text(200, registry_.render());
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return response;
    }
    if (verb == "slices" && debug_endpoints_) return json(200, service_.debug_slices());
  }
  using Verb = ExtenderService::Reply (ExtenderService::*)(std::string_view);
  static const std::map<std::string, Verb> verbs = {{"filter", &ExtenderService::filter},
                                                    {"prioritize", &ExtenderService::prioritize},
                                                    {"bind", &ExtenderService::bind},
                                                    {"preempt", &ExtenderService::preempt}};
  const auto found = verbs.find(verb);
  if (found == verbs.end()) {
    if (request.method == "GET") return text(404, "not found\n");
    return json(404, wire::encode_verb_error(verb, "unknown extender verb '" + verb + "'"));
  }
  if (request.method != "POST") {
    auto refused = json(405, wire::encode_verb_error(verb, "use POST for extender verbs"));
    refused.headers.emplace_back("Allow", "POST");
    return refused;
  }
  auto answer = (service_.*found->second)(request.body);
  return json(answer.status, std::move(answer.body));
}

}  // namespace tpustack::extender
