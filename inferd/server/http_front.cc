#include "inferd/server/http_front.h"

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "inferd/server/client_connection.h"

namespace inferd::server {

namespace {

namespace http = web::http;

void serve(HttpApi& api, const http::http_request& request) {
  HttpCall call;
  // First, before anything else on this thread can ask the kernel about another socket.
  if (auto connection = ClientConnection::current(request.remote_address())) {
    call.client_gone = [connection = *connection] { return connection.closed(); };
  }
  call.method = request.method();
  call.path = request.relative_uri().path();
  for (const auto& [name, value] : request.headers()) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    call.headers[lower] = value;
  }
  HttpReply reply;
  const auto start = std::chrono::steady_clock::now();
  try {
    const std::vector<unsigned char> body = request.extract_vector().get();
    call.body.assign(body.begin(), body.end());
    reply = api.handle(call);
  } catch (const std::exception& e) {
    // Nothing a client sends should get here; if it does, the client gets a 500 and the process lives on.
    spdlog::error("{} {}: {}", call.method, call.path, e.what());
    reply = {500, R"({"error":"internal error","error_type":"backend"})", "application/json", {}};
  }
  spdlog::debug("{} {} {} {:.1f}ms", call.method, call.path, reply.status,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  http::http_response response(static_cast<http::status_code>(reply.status));
  for (const auto& [name, value] : reply.headers) response.headers().add(name, value);
  response.set_body(std::vector<unsigned char>(reply.body.begin(), reply.body.end()));
  response.headers().set_content_type(reply.content_type);
  request.reply(response).then([](pplx::task<void> sent) {
    try {
      sent.get();
    } catch (const std::exception& e) {
      spdlog::debug("reply not delivered: {}", e.what());  // the client went away
    }
  });
}

}  // namespace

HttpFront::HttpFront(const std::string& host_port, HttpApi& api)
    : listener_(host_port, "the inferd HTTP API", [&api](http::http_request request) { serve(api, request); }) {}

}  // namespace inferd::server
