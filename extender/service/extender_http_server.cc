#include "extender/service/extender_http_server.h"

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>

#include "common/metrics/metrics_server.h"

namespace tpustack::extender {

using web::http::http_request;
using web::http::methods;
using web::http::status_code;

namespace {

constexpr const char* kJson = "application/json";

std::string last_segment(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void reply(http_request& request, int status, std::string body, const char* type) {
  request.reply(static_cast<status_code>(status), std::move(body), type);
}

}  // namespace

ExtenderHttpServer::ExtenderHttpServer(const std::string& host_port, ExtenderService& service,
                                       const metrics::MetricsRegistry& registry)
    : service_(service),
      registry_(registry),
      listener_(host_port, "extender verbs", [this](http_request request) { serve(std::move(request)); }) {}

void ExtenderHttpServer::serve(http_request request) {
  auto verb = last_segment(request.relative_uri().path());
  if (request.method() == methods::GET) {
    if (verb == "healthz") return reply(request, 200, "ok\n", "text/plain");
    if (verb == "readyz") {
      bool synced = service_.synced();
      return reply(request, synced ? 200 : 503, synced ? "ok\n" : "cache not synced\n", "text/plain");
    }
    if (verb == "metrics") {
      service_.refresh_gauges();
      return reply(request, 200, registry_.render(), "text/plain; version=0.0.4; charset=utf-8");
    }
    if (verb == "slices") return reply(request, 200, service_.debug_slices(), kJson);
    return reply(request, 404, "not found\n", "text/plain");
  }
  if (request.method() != methods::POST) return reply(request, 405, "use POST for extender verbs\n", "text/plain");
  std::string body;
  try {
    body = request.extract_utf8string(true).get();
  } catch (const std::exception& e) {
    return reply(request, 400, std::string("cannot read the request body: ") + e.what(), "text/plain");
  }
  ExtenderService::Reply answer;
  if (verb == "filter") {
    answer = service_.filter(body);
  } else if (verb == "prioritize") {
    answer = service_.prioritize(body);
  } else if (verb == "bind") {
    answer = service_.bind(body);
  } else if (verb == "preempt") {
    answer = service_.preempt(body);
  } else {
    return reply(request, 404, "unknown verb " + verb + "\n", "text/plain");
  }
  reply(request, answer.status, std::move(answer.body), kJson);
}

}  // namespace tpustack::extender
