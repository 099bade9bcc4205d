#include "inferd/server/http_front.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <spdlog/spdlog.h>

namespace tpustack::inferd::server {

namespace {

namespace http = tpustack::http;

http::Response response_of(HttpReply reply) {
  http::Response response{reply.status, std::move(reply.content_type), std::move(reply.body), std::move(reply.headers)};
  if (reply.stream) {
    response.stream = [produce = std::move(reply.stream)](http::ResponseStream& out) {
      produce([&out](std::string_view data) { return out.write(data); });
    };
  }
  return response;
}

http::HttpServerOptions server_options(const HttpFrontOptions& options) {
  http::HttpServerOptions server;
  server.listen = options.listen;
  server.what = "the inferd HTTP API";
  server.max_body_bytes = options.max_body_bytes;
  server.upload_route = [](std::string_view path) { return path == "/v1/files"; };
  server.max_upload_bytes = options.max_file_bytes;
  // Room for bodies in transit beside the largest one allowed.
  server.max_buffered_bytes =
      std::max({server.max_buffered_bytes, 2 * options.max_body_bytes, 2 * options.max_file_bytes});
  server.max_in_flight = options.max_concurrent_requests;
  server.workers = options.max_concurrent_requests;
  // The Files and Batch APIs read SQLite, which may wait for the batch runner's transaction: never on the reader.
  server.inline_route = [](const http::Request& request) {
    return request.method != "POST" && !batch_jobs::is_jobs_path(request.path);
  };
  return server;
}

HttpReply serve(HttpApi& api, const http::Request& request) {
  HttpCall call;
  call.method = request.method;
  call.path = request.path;
  if (const size_t mark = request.target.find('?'); mark != std::string::npos)
    call.query = request.target.substr(mark + 1);
  call.body = request.body;
  for (const auto& [name, value] : request.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    call.headers[lower] = value;
  }
  call.client_gone = [&request] { return request.client_gone(); };
  const auto start = std::chrono::steady_clock::now();
  HttpReply reply = api.handle(call);
  spdlog::debug("{} {} {} {:.1f}ms", call.method, call.path, reply.status,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return reply;
}

}  // namespace

HttpFront::HttpFront(const HttpFrontOptions& options, HttpApi& api)
    : server_(
          server_options(options), [&api](const http::Request& request) { return response_of(serve(api, request)); },
          [&api](const http::Request& request, int status, const std::string& reason) {
            return response_of(api.refusal(request.method, request.path, status, reason));
          }) {}

}  // namespace tpustack::inferd::server
