#include "common/http/serving_listener.h"

#include <stdexcept>

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>

#include "common/http/listen_address.h"

namespace tpustack::http {

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
