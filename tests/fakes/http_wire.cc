#include "tests/fakes/http_wire.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace tpustack::fakes {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string status_line(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) + "\r\n";
}

}  // namespace

std::optional<HttpRequest> take_request(std::string& buffer) {
  std::size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  HttpRequest request;
  std::string_view head(buffer.data(), head_end);
  std::size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  std::size_t sp1 = request_line.find(' ');
  std::size_t sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1) {
    throw std::invalid_argument("malformed request line: " + std::string(request_line));
  }
  request.method = request_line.substr(0, sp1);
  request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (line_end != std::string_view::npos && line_end < head.size()) {
    std::size_t next = head.find("\r\n", line_end + 2);
    std::string_view line =
        head.substr(line_end + 2, next == std::string_view::npos ? std::string_view::npos : next - line_end - 2);
    line_end = next;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers[name] = std::string(value);
  }
  if (request.header("transfer-encoding").find("chunked") != std::string::npos) {
    throw std::invalid_argument("chunked request bodies are not supported by the fake");
  }
  std::size_t length = 0;
  if (std::string text = request.header("content-length"); !text.empty()) length = std::stoul(text);
  if (buffer.size() < head_end + 4 + length) return std::nullopt;
  request.body = buffer.substr(head_end + 4, length);
  buffer.erase(0, head_end + 4 + length);
  return request;
}

std::string format_response(int status, std::string_view content_type, std::string_view body) {
  std::string out = status_line(status);
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

std::string format_chunked_head(int status, std::string_view content_type) {
  return status_line(status) + "Content-Type: " + std::string(content_type) + "\r\nTransfer-Encoding: chunked\r\n\r\n";
}

std::string format_chunk(std::string_view data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

std::optional<HttpRequest> read_request(int fd, std::string& buffer) {
  while (true) {
    if (auto request = take_request(buffer)) return request;
    char chunk[16 * 1024];
    ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
}

}  // namespace tpustack::fakes
