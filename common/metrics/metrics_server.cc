#include "common/metrics/metrics_server.h"

#include <stdexcept>

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>

#include "common/http/listener_lifecycle.h"

namespace tpustack::metrics {

using web::http::http_request;
using web::http::methods;
using web::http::status_codes;
using web::http::experimental::listener::http_listener;

std::string listen_uri(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    throw std::invalid_argument("invalid listen address '" + host_port + "' (expected HOST:PORT, e.g. 0.0.0.0:8080)");
  }
  std::string host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  for (char c : port) {
    if (c < '0' || c > '9') throw std::invalid_argument("invalid port in listen address '" + host_port + "'");
  }
  if (std::stoul(port) > 65535) throw std::invalid_argument("port out of range in '" + host_port + "'");
  if (host.empty()) host = "0.0.0.0";
  return "http://" + host + ":" + port;
}

MetricsServer::MetricsServer(const std::string& host_port, const MetricsRegistry& registry,
                             std::map<std::string, Handler> handlers)
    : registry_(registry),
      handlers_(std::move(handlers)),
      listener_(std::make_unique<http_listener>(listen_uri(host_port))) {
  listener_->support([this](http_request request) {
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
  });
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
  tpustack::http::open_listener(*listener_, "/metrics");
  running_ = true;
}

void MetricsServer::stop() {
  if (!running_) return;
  running_ = false;
  tpustack::http::close_listener(*listener_, "/metrics");
}

}  // namespace tpustack::metrics
