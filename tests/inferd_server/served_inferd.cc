#include "served_inferd.h"

#include <cpprest/http_client.h>

#include <algorithm>
#include <stdexcept>

namespace inferd::testing {

namespace http = web::http;

std::string ServedInferd::tiny_models() {
#ifdef INFERD_TINY_MODELS
  return INFERD_TINY_MODELS;
#else
  return "";
#endif
}

std::string ServedInferd::binary() { return std::string(TPUSTACK_BINARY_DIR) + "/inferd/inferd"; }

ServedInferd::ServedInferd(const std::vector<std::string>& flags, bool wait_ready) {
  const std::string http_port = std::to_string(free_port());
  const std::string grpc_port = std::to_string(free_port());
  http_base_ = "http://127.0.0.1:" + http_port;
  grpc_address_ = "127.0.0.1:" + grpc_port;
  std::vector<std::string> argv{binary(),        "serve",      "--listen", "127.0.0.1:" + http_port,
                                "--grpc-listen", grpc_address_};
  argv.insert(argv.end(), flags.begin(), flags.end());
  process_ = std::make_unique<ChildProcess>(argv);
  if (!process_->wait_for_line("inferd serving", std::chrono::seconds(30))) {
    throw std::runtime_error("inferd serve did not start:\n" + process_->output());
  }
  if (wait_ready && !process_->wait_for_line("ready", std::chrono::seconds(30))) {
    throw std::runtime_error("inferd serve did not become ready:\n" + process_->output());
  }
}

namespace {

HttpResult send(const std::string& base, http::http_request request) {
  http::client::http_client client(base);
  http::http_response response = client.request(request).get();
  HttpResult result;
  result.status = response.status_code();
  const std::vector<unsigned char> body = response.extract_vector().get();
  result.body.assign(body.begin(), body.end());
  for (const auto& [name, value] : response.headers()) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    result.headers[lower] = value;
  }
  return result;
}

}  // namespace

HttpResult ServedInferd::get(const std::string& path) {
  http::http_request request(http::methods::GET);
  request.set_request_uri(path);
  return send(http_base_, request);
}

HttpResult ServedInferd::post(const std::string& path, const std::string& body,
                              const std::map<std::string, std::string>& headers) {
  http::http_request request(http::methods::POST);
  request.set_request_uri(path);
  request.set_body(std::vector<unsigned char>(body.begin(), body.end()));
  request.headers().set_content_type("application/json");
  for (const auto& [name, value] : headers) request.headers().add(name, value);
  return send(http_base_, request);
}

}  // namespace inferd::testing
