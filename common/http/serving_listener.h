#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/http/listen_address.h"

namespace web::http {
class http_request;
namespace experimental::listener {
class http_listener;
}
}  // namespace web::http

namespace tpustack::http {

// One HTTP surface of a program (its /metrics, the extender's verbs, inferd's API) on a cpprestsdk listener.
// Handlers run on cpprestsdk's threads. The owner declares it last among its members, so that it closes
// before anything its handler uses goes away.
class ServingListener {
 public:
  using Handler = std::function<void(web::http::http_request)>;  // cpprestsdk's own: the request is a shared handle

  // `what` names the surface in messages. Throws std::invalid_argument for a bad HOST:PORT.
  ServingListener(const std::string& host_port, std::string what, Handler handler);
  ~ServingListener();
  ServingListener(const ServingListener&) = delete;
  ServingListener& operator=(const ServingListener&) = delete;

  // Throws std::runtime_error "cannot serve <what> on <uri>: <reason>", so a busy port stops the program with
  // a message naming what could not start.
  void start();
  // Closes it once; a failure is logged, never thrown (it runs on shutdown paths and in the destructor).
  void stop();

 private:
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
  std::string what_;
  bool running_ = false;
};

}  // namespace tpustack::http
