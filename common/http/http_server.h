#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result/result.h"

namespace tpustack::http {

namespace detail {
class ServerCore;
class StreamChannel;
}  // namespace detail

// A request as a handler sees it: read whole, within the server's limits. A HEAD request reaches the handler as
// GET: the server sends the GET answer's headers without its body.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // the target without its query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;

  // Whether the client closed or reset its connection (or half-closed its sending side) since sending this
  // request, so that a handler that waits can drop the work of a client who left. Asks the kernel about the
  // connection's socket; false outside the server's handler call (and its answer's stream, when it streams), where
  // there is no connection to ask about.
  bool client_gone() const;

 private:
  friend class detail::ServerCore;
  // The connection's, while the handler (and its answer's producer) runs: the server neither reads nor closes it
  // meanwhile.
  int socket_ = -1;
};

// The body of a streamed answer as its producer writes it, on the worker thread that ran the handler.
class ResponseStream {
 public:
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  // Sends `data` to the client now, as one chunk of the chunked body ("" sends nothing). Waits while more than
  // max_stream_buffer_bytes of the answer are not sent yet. False, sending nothing, once the client has gone (it hung
  // up, or a write failed or made no progress for stream_write_timeout) or the server is stopping: the producer
  // should stop then, as nothing more reaches anyone.
  bool write(std::string_view data);

 private:
  friend class detail::ServerCore;
  ResponseStream(detail::StreamChannel& channel, const Request& request, bool chunked)
      : channel_(channel), request_(request), chunked_(chunked) {}

  detail::StreamChannel& channel_;
  const Request& request_;
  const bool chunked_;  // HTTP/1.1; an HTTP/1.0 client gets the bytes as they are, and the end as the close
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";  // "": none (a 204)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones, e.g. Retry-After
  // When set, the body is streamed instead of `body` (server-sent events): the status and headers go out at once,
  // with Transfer-Encoding: chunked, then this producer runs on the handler's worker, which it holds, and what it
  // writes goes out as it writes it; its return ends the answer, and a kept-alive connection reads the next request.
  // The request stays valid until it returns. A HEAD request gets the headers only: this does not run. An HTTP/1.0
  // client gets the bytes unchunked, then the close. A throw cuts the answer off unfinished (the connection closes).
  // Only worker handlers stream, not `inline_route` ones (they answer 500).
  std::function<void(ResponseStream&)> stream = nullptr;  // initialised: {status, type, body, headers} stays valid
};

// Server certificate chain and key (PEM files). With `client_ca_file`, a client must present a certificate
// signed by that CA or the handshake fails: nothing of its request is read.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

// A server certificate chain and its key as PEM text: one the program made itself, or files it re-reads.
struct TlsCertificate {
  std::string chain_pem;
  std::string key_pem;
};

struct HttpServerOptions {
  std::string listen;  // HOST:PORT; ":PORT" is every address; port 0 picks a free one (see port())
  std::string what;    // names the surface in messages: "extender verbs", "/metrics"
  std::optional<TlsFiles> tls;
  std::optional<TlsCertificate> tls_certificate;  // HTTPS from memory, when `tls` is not given
  // A body over this is refused with 413 as soon as its Content-Length says so, or, chunked, when its bytes
  // reach it; the connection is closed after the answer.
  std::size_t max_body_bytes = 1 << 20;
  // Paths that take bodies up to max_upload_bytes instead (an upload route); every other path keeps max_body_bytes.
  std::function<bool(std::string_view path)> upload_route;
  std::size_t max_upload_bytes = 0;
  std::size_t max_header_bytes = 16 << 10;
  // Body bytes being received on all connections together. Past it a request is refused with 503 and its
  // connection closed, so many connections each sending a large body never add up to more than this.
  std::size_t max_buffered_bytes = 256 << 20;
  // Requests handed to the workers and not answered yet (a streamed one until its producer returns). Past it a
  // request gets 503 + Retry-After at once.
  int max_in_flight = 64;
  int workers = 4;              // threads that run handlers: a handler may block (API calls); readers never do
  int io_threads = 1;           // threads that accept, read and write; they run only `inline_route` handlers
  int max_connections = 10000;  // past it a new connection is closed at once
  // A request's headers and body must arrive within this, counted from the connection's opening or the end of
  // the previous answer on a kept-alive one; a client that stalls is disconnected then.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  // A streamed answer's write that makes no progress for this long (a client that stopped reading) fails: the
  // producer's writes return false and the connection is closed, so no client holds a worker forever.
  std::chrono::milliseconds stream_write_timeout = std::chrono::seconds(30);
  // The bytes of a streamed answer not yet sent past which the producer's next write waits.
  std::size_t max_stream_buffer_bytes = 1 << 20;
  // Routes cheap enough to answer on the reading thread (/healthz): they answer even while every worker is
  // busy. They must not block.
  std::function<bool(const Request&)> inline_route;
};

// One HTTP/1.1 (optionally TLS) surface of a program on Boost.Beast: its /metrics, the extender's verbs.
// Reading is asynchronous on the server's own I/O threads, so no number of slow or stalled clients holds a
// thread; handlers run on the server's own bounded worker pool (never cpprestsdk's, which the Kubernetes
// client needs). Requests the server refuses before the handler (too large, too many, unreadable, TRACE) are
// answered by `refuse`, so that each surface answers in its own format.
class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  // The answer to a request refused with `status` (400, 405, 413, 431, 503) for `reason`; the request holds what
  // was read of it (method and target at least). Nullptr: plain text.
  using Refusal = std::function<Response(const Request&, int status, const std::string& reason)>;

  HttpServer(HttpServerOptions options, Handler handler, Refusal refuse = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Reads the TLS files, binds and starts serving; or the Error "cannot serve <what> on <address>: <reason>" (a bad
  // HOST:PORT, an address in use, an unreadable certificate).
  Result<void> start();
  // Stops accepting, ends open streams (their writes return false), closes every connection and waits for running
  // handlers. Idempotent.
  void stop();
  // The bound port (after start()).
  int port() const;
  // Serves `certificate` to connections accepted from now on (a renewed or rotated one); open connections keep
  // theirs. An Error, changing nothing, when it cannot be used; std::logic_error on a server without TLS.
  Result<void> use_certificate(const TlsCertificate& certificate);

  struct Counters {
    std::size_t connections = 0;
    std::size_t in_flight = 0;
    std::size_t buffered_bytes = 0;
  };
  Counters counters() const;

 private:
  std::unique_ptr<detail::ServerCore> core_;
};

// Raises this process's open-file limit to its hard limit (a server holding thousands of connections needs
// more than the usual soft 1024). Returns the limit now in force.
std::size_t raise_open_file_limit();

}  // namespace tpustack::http
