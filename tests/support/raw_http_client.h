#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tpustack::testing {

// An HTTP/1.1 response as bytes on the wire said it; headers keyed in lower case.
struct RawResponse {
  int status = 0;  // 0: the connection closed (or timed out) before an answer
  std::map<std::string, std::string> headers;
  std::string body;
};

// A plain TCP connection to 127.0.0.1 that sends exactly the bytes it is given: for clients that misbehave on
// purpose (stall mid-body, pipeline, send garbage), which no HTTP library does.
class RawConnection {
 public:
  explicit RawConnection(int port);  // throws std::runtime_error when it cannot connect
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes`; false when the peer has closed.
  bool send(std::string_view bytes);
  // Reads one response (Content-Length or chunked bodies, or until the peer closes). `to_head`: the answer to a
  // HEAD request, whose Content-Length counts a body that is not sent.
  RawResponse read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10), bool to_head = false);
  // Reads a response's status line and headers only (a 100 Continue is skipped), leaving its body to read.
  RawResponse read_head(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads the next chunk of a chunked body: its data, "" for the last chunk; nothing when the connection closed or
  // no whole chunk came within `timeout`.
  std::optional<std::string> read_chunk(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Whether the peer closes the connection within `wait` (EOF or reset); data it sends meanwhile is discarded.
  bool closed_by_peer(std::chrono::milliseconds wait);

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string pending_;
};

// The bytes of a request with Content-Length (when `body` is not empty or the method is POST).
std::string request_bytes(std::string_view method, std::string_view path, std::string_view body = "",
                          std::string_view extra_headers = "");

// One request on a fresh connection; status 0 when nothing listens or nothing answered.
RawResponse round_trip(int port, std::string_view method, std::string_view path, std::string_view body = "");

}  // namespace tpustack::testing
