#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tpustack::fakes {

// One HTTP/1.1 request as read from a socket.
struct HttpRequest {
  std::string method;
  std::string target;                          // "/api/v1/pods?watch=1"
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Takes one complete request off the front of `buffer`; nullopt while more bytes are needed.
// Throws std::invalid_argument on a malformed request head.
std::optional<HttpRequest> take_request(std::string& buffer);

std::string format_response(int status, std::string_view content_type, std::string_view body);
// The head of a chunked response; the body follows as format_chunk() pieces and an empty final chunk.
std::string format_chunked_head(int status, std::string_view content_type);
std::string format_chunk(std::string_view data);

// Blocking socket helpers; false when the peer is gone.
bool send_all(int fd, std::string_view data);
// Reads one request from `fd`, keeping any extra bytes in `buffer` for the next call.
std::optional<HttpRequest> read_request(int fd, std::string& buffer);

}  // namespace tpustack::fakes
