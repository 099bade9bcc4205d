#include "tests/support/raw_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace tpustack::testing {

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, static_cast<int>(std::max<long long>(0, left.count()))) <= 0) return false;
  char buffer[65536];
  const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
  if (got <= 0) return false;
  pending_.append(buffer, static_cast<size_t>(got));
  return true;
}

RawResponse RawConnection::read_head(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return {};
  }
  RawResponse response;
  const std::string head = pending_.substr(0, header_end);
  pending_.erase(0, header_end + 4);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  const size_t space = status_line.find(' ');
  response.status = space == std::string::npos ? 0 : std::stoi(status_line.substr(space + 1, 3));
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    response.headers[name] = value;
  }
  if (response.status == 100) return read_head(timeout);
  return response;
}

std::optional<std::string> RawConnection::read_chunk(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t size_end;
  while ((size_end = pending_.find("\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  const size_t size = std::stoul(pending_.substr(0, size_end), nullptr, 16);
  // The data and its CRLF; after the last chunk, the CRLF that ends its (empty) trailer.
  const size_t end = size_end + 2 + size + 2;
  while (pending_.size() < end) {
    if (!fill(deadline)) return std::nullopt;
  }
  std::string data = pending_.substr(size_end + 2, size);
  pending_.erase(0, end);
  return data;
}

RawResponse RawConnection::read_response(std::chrono::milliseconds timeout, bool to_head) {
  RawResponse response = read_head(timeout);
  if (response.status == 0 || to_head) return response;
  if (auto coding = response.headers.find("transfer-encoding");
      coding != response.headers.end() && coding->second == "chunked") {
    while (auto chunk = read_chunk(timeout)) {
      if (chunk->empty()) break;
      response.body += *chunk;
    }
    return response;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (auto length = response.headers.find("content-length"); length != response.headers.end()) {
    const size_t size = std::stoul(length->second);
    while (pending_.size() < size) {
      if (!fill(deadline)) break;
    }
    response.body = pending_.substr(0, size);
    pending_.erase(0, std::min(size, pending_.size()));
  } else {
    while (fill(deadline)) {
    }
    response.body = std::move(pending_);
    pending_.clear();
  }
  return response;
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd waiting{fd_, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&waiting, 1, static_cast<int>(std::max<long long>(1, left.count()))) <= 0) continue;
    char buffer[4096];
    if (::recv(fd_, buffer, sizeof buffer, 0) <= 0) return true;
  }
  return false;
}

std::string request_bytes(std::string_view method, std::string_view path, std::string_view body,
                          std::string_view extra_headers) {
  std::string bytes = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty() || method == "POST") {
    bytes += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  bytes += std::string(extra_headers);
  bytes += "\r\n";
  bytes += std::string(body);
  return bytes;
}

RawResponse round_trip(int port, std::string_view method, std::string_view path, std::string_view body) {
  try {
    RawConnection connection(port);
    if (!connection.send(request_bytes(method, path, body))) return {};
    return connection.read_response();
  } catch (const std::runtime_error&) {
    return {};  // nothing listens (yet)
  }
}

}  // namespace tpustack::testing
