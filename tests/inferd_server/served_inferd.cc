#include "served_inferd.h"

#include <cpprest/http_client.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace tpustack::inferd::testing {

namespace http = web::http;

std::string ServedInferd::tiny_models() {
#ifdef INFERD_TINY_MODELS
  return INFERD_TINY_MODELS;
#else
  return "";
#endif
}

std::vector<std::string> ServedInferd::one_tiny_model() {
  return {"--model", "m=" + tiny_models() + "/f32-mean", "--preload", "m", "--threads", "1"};
}

std::string ServedInferd::binary() { return std::string(TPUSTACK_BINARY_DIR) + "/inferd/inferd"; }

ServedInferd::ServedInferd(const std::vector<std::string>& flags, bool wait_ready, Placement placement) {
  http_port_ = placement.http_port ? placement.http_port : free_port();
  const std::string http_port = std::to_string(http_port_);
  const std::string grpc_port = std::to_string(placement.grpc_port ? placement.grpc_port : free_port());
  http_base_ = "http://127.0.0.1:" + http_port;
  grpc_address_ = "127.0.0.1:" + grpc_port;
  std::vector<std::string> argv{binary(),        "serve",      "--listen", "127.0.0.1:" + http_port,
                                "--grpc-listen", grpc_address_};
  argv.insert(argv.end(), flags.begin(), flags.end());
  process_ = std::make_unique<ChildProcess>(argv, placement.env);
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

HttpResult ServedInferd::call(const std::string& method, const std::string& path, const std::string& body,
                              const std::string& content_type) {
  http::http_request request(method);
  request.set_request_uri(path);
  if (!body.empty()) {
    request.set_body(std::vector<unsigned char>(body.begin(), body.end()));
    request.headers().set_content_type(content_type);
  }
  return send(http_base_, request);
}

void ServedInferd::post_and_hang_up(const std::string& path, const std::string& body) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(http_port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  bool sent = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
              write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the server is handling the request by now
  sent = sent && write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  close(fd);
  if (!sent) throw std::runtime_error("could not send " + path + " to inferd");
}

}  // namespace tpustack::inferd::testing
