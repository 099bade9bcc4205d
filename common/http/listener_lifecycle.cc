#include "common/http/listener_lifecycle.h"

#include <stdexcept>
#include <string>

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>

namespace tpustack::http {

void open_listener(web::http::experimental::listener::http_listener& listener, std::string_view what) {
  try {
    listener.open().wait();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve " + std::string(what) + " on " + listener.uri().to_string() + ": " +
                             e.what());
  }
  spdlog::info("serving {} on {}", what, listener.uri().to_string());
}

void close_listener(web::http::experimental::listener::http_listener& listener, std::string_view what) {
  try {
    listener.close().wait();
  } catch (const std::exception& e) {
    spdlog::warn("closing the {} listener failed: {}", what, e.what());
  }
}

}  // namespace tpustack::http
