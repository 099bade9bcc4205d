#include "common/http/serving_listener.h"

#include <stdexcept>

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>

namespace tpustack::http {

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

ServingListener::ServingListener(const std::string& host_port, std::string what, Handler handler)
    : listener_(std::make_unique<web::http::experimental::listener::http_listener>(listen_uri(host_port))),
      what_(std::move(what)) {
  listener_->support(std::move(handler));
}

ServingListener::~ServingListener() { stop(); }

void ServingListener::start() {
  try {
    listener_->open().wait();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve " + what_ + " on " + listener_->uri().to_string() + ": " + e.what());
  }
  running_ = true;
  spdlog::info("serving {} on {}", what_, listener_->uri().to_string());
}

void ServingListener::stop() {
  if (!running_) return;
  running_ = false;
  try {
    listener_->close().wait();
  } catch (const std::exception& e) {
    spdlog::warn("closing the {} listener failed: {}", what_, e.what());
  }
}

}  // namespace tpustack::http
