#pragma once

#include <memory>
#include <string>

#include "inferd/server/http_api.h"

namespace web::http::experimental::listener {
class http_listener;
}

namespace inferd::server {

// cpprestsdk's listener in front of HttpApi. Handlers run on cpprestsdk's thread pool and may block on a batch.
class HttpFront {
 public:
  HttpFront(const std::string& host_port, HttpApi& api);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // Throws std::runtime_error when the address cannot be bound.
  void start();
  void stop();

 private:
  HttpApi& api_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
  bool running_ = false;
};

}  // namespace inferd::server
