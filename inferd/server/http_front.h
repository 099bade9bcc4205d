#pragma once

#include <string>

#include "common/http/serving_listener.h"
#include "inferd/server/http_api.h"

namespace inferd::server {

// cpprestsdk's listener in front of HttpApi. Handlers run on cpprestsdk's thread pool and may block on a batch.
class HttpFront {
 public:
  HttpFront(const std::string& host_port, HttpApi& api);

  // Throws std::runtime_error when the address cannot be bound.
  void start() { listener_.start(); }
  void stop() { listener_.stop(); }

 private:
  tpustack::http::ServingListener listener_;
};

}  // namespace inferd::server
