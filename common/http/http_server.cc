#include "common/http/http_server.h"

#include <malloc.h>
#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/http/listen_address.h"
#include "common/http/stream_channel.h"

namespace tpustack::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, beast::string_view(name.data(), name.size()))) return value;
  }
  return "";
}

bool Request::client_gone() const {
  if (socket_ < 0) return false;
  pollfd probe{socket_, POLLRDHUP, 0};
  return poll(&probe, 1, 0) == 1 && (probe.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool ResponseStream::write(std::string_view data) {
  if (request_.client_gone()) channel_.fail();
  // An empty chunk would end a chunked body.
  if (data.empty()) return !channel_.failed();
  if (!chunked_) return channel_.put(std::string(data));
  char size[2 * sizeof(std::size_t)];
  std::string chunk(size, std::to_chars(std::begin(size), std::end(size), data.size(), 16).ptr);
  chunk.reserve(chunk.size() + data.size() + 4);
  chunk += "\r\n";
  chunk += data;
  chunk += "\r\n";
  return channel_.put(std::move(chunk));
}

std::size_t raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

namespace detail {

class ServerCore {
 public:
  ServerCore(HttpServerOptions options, HttpServer::Handler handler, HttpServer::Refusal refuse)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        refuse_(std::move(refuse)),
        workers_(static_cast<std::size_t>(std::max(1, options_.workers))),
        acceptor_(io_) {}

  ~ServerCore() { stop(); }

  // Everything a server cannot start without: its address, its certificate, its port.
  Result<void> start() {
    auto failed = [this](const std::string& reason) {
      return Error{"cannot serve " + options_.what + " on " + options_.listen + ": " + reason};
    };
    auto address = parse_listen_address(options_.listen);
    if (!address) return failed(address.error().message);
    address_ = *address;
    auto tls = initial_tls(options_);
    if (!tls) return failed(tls.error().message);
    tls_ = *tls;
    error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address(address_.host, ec), static_cast<unsigned short>(address_.port));
    if (ec) {
      tcp::resolver resolver(io_);
      auto found = resolver.resolve(address_.host, std::to_string(address_.port), ec);
      if (ec || found.empty()) return failed("cannot resolve " + address_.host + ": " + ec.message());
      endpoint = *found.begin();
    }
    if (acceptor_.open(endpoint.protocol(), ec) || acceptor_.set_option(asio::socket_base::reuse_address(true), ec) ||
        acceptor_.bind(endpoint, ec) || acceptor_.listen(asio::socket_base::max_listen_connections, ec)) {
      acceptor_.close(ec);
      return failed(ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) io_threads_.emplace_back([this] { io_.run(); });
    running_ = true;
    spdlog::info("serving {} on {}{}:{}", options_.what, tls_ ? "https://" : "http://", address_.host, port_);
    return {};
  }

  void stop() {
    if (!running_.exchange(false)) return;
    {
      // A producer waiting for room, or writing on, learns now that nothing more goes out, and frees its worker.
      std::lock_guard lock(sessions_mu_);
      for (auto* stream : streams_) stream->fail();
    }
    workers_.stop();  // queued requests are dropped with their connections; running ones finish
    workers_.join();
    io_.stop();
    for (auto& thread : io_threads_) thread.join();
    io_threads_.clear();
    error_code ignored;
    acceptor_.close(ignored);
    std::vector<std::function<void()>> closers;
    {
      std::lock_guard lock(sessions_mu_);
      for (auto& [id, close] : sessions_) closers.push_back(close);
    }
    for (auto& close : closers) close();
    // The aborted reads and writes complete here and release their sessions.
    io_.restart();
    io_.poll();
  }

  // A session registers how to close its socket, so that stop() leaves no connection open.
  std::uint64_t track(std::function<void()> close) {
    std::lock_guard lock(sessions_mu_);
    sessions_.emplace(++last_session_, std::move(close));
    return last_session_;
  }
  void untrack(std::uint64_t id) {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(id);
  }

  int port() const { return port_; }
  HttpServer::Counters counters() const { return {connections_.load(), in_flight_.load(), buffered_.load()}; }

  // What a session needs from its server.
  const HttpServerOptions& options() const { return options_; }
  asio::thread_pool& workers() { return workers_; }
  void connection_opened() {
    const std::size_t now = ++connections_;
    std::size_t peak = peak_connections_.load();
    while (now > peak && !peak_connections_.compare_exchange_weak(peak, now)) {
    }
  }
  // After a burst of connections (thousands of slow clients, say) the allocator keeps their freed buffers; give
  // them back to the system once the burst is over, so memory returns to where it was.
  void connection_closed() {
    if (--connections_ != 0) return;
    const std::size_t peak = peak_connections_.exchange(0);
    if (peak < kBurst) return;
    malloc_trim(0);
    spdlog::info("{}: {} connections at the peak, none now; memory given back", options_.what, peak);
  }
  std::atomic<std::size_t>& in_flight() { return in_flight_; }
  std::atomic<std::size_t>& buffered() { return buffered_; }

  Response handle(const Request& request) const {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      spdlog::error("{}: {} {} failed: {}", options_.what, request.method, request.path, e.what());
      return refusal(request, 500, std::string("internal error: ") + e.what());
    }
  }

  // An inline route's answer. It cannot stream: its producer would block the reading thread.
  Response handle_inline(const Request& request) const {
    Response response = handle(request);
    if (!response.stream) return response;
    spdlog::error("{}: {} {} streams its answer on the reading thread", options_.what, request.method, request.path);
    return refusal(request, 500, "internal error: a streamed answer from an inline route");
  }

  // Runs a streamed answer's producer on this worker, writing into `channel`; stop() ends the stream meanwhile.
  // False when the producer threw: its answer is unfinished.
  bool produce(const Request& request, const Response& response, StreamChannel& channel, bool chunked) {
    {
      std::lock_guard lock(sessions_mu_);
      streams_.insert(&channel);
      if (!running_) channel.fail();
    }
    ResponseStream out(channel, request, chunked);
    bool whole = true;
    try {
      response.stream(out);
    } catch (const std::exception& e) {
      spdlog::error("{}: streaming the answer to {} {} failed: {}", options_.what, request.method, request.path,
                    e.what());
      whole = false;
    }
    std::lock_guard lock(sessions_mu_);
    streams_.erase(&channel);
    return whole;
  }

  Response refusal(const Request& request, int status, const std::string& reason) const {
    if (refuse_) {
      try {
        return refuse_(request, status, reason);
      } catch (const std::exception& e) {
        spdlog::error("{}: answering a refusal failed: {}", options_.what, e.what());
      }
    }
    Response response;
    response.status = status;
    response.body = reason + "\n";
    return response;
  }

  bool runs_inline(const Request& request) const { return options_.inline_route && options_.inline_route(request); }

  // The largest body any path takes, and the one `path` takes.
  std::size_t largest_body() const {
    return options_.upload_route ? std::max(options_.max_body_bytes, options_.max_upload_bytes)
                                 : options_.max_body_bytes;
  }
  std::size_t body_limit(std::string_view path) const {
    return options_.upload_route && options_.upload_route(path) ? options_.max_upload_bytes : options_.max_body_bytes;
  }

  static void attach_socket(Request& request, int socket) { request.socket_ = socket; }

 private:
  static std::shared_ptr<ssl::context> server_context() {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    return context;
  }

  using TlsContext = std::shared_ptr<ssl::context>;

  // OpenSSL's reason for what `step` failed to do, as the Error of `what`.
  static Result<void> tls_step(const std::string& what, const std::function<void(error_code&)>& step) {
    error_code ec;
    step(ec);
    if (ec) return Error{what + ": " + ec.message()};
    return {};
  }

  static Result<void> require_client_certificates(ssl::context& context, const std::string& client_ca_file) {
    if (client_ca_file.empty()) return {};
    auto loaded = tls_step("cannot read client CA " + client_ca_file,
                           [&](error_code& ec) { context.load_verify_file(client_ca_file, ec); });
    if (!loaded) return loaded;
    context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    return {};
  }

  static Result<TlsContext> load_tls(const TlsFiles& files) {
    auto context = server_context();
    if (auto read = tls_step("cannot read TLS certificate " + files.cert_file,
                             [&](error_code& ec) { context->use_certificate_chain_file(files.cert_file, ec); });
        !read) {
      return read.error();
    }
    if (auto read =
            tls_step("cannot read TLS private key " + files.key_file,
                     [&](error_code& ec) { context->use_private_key_file(files.key_file, ssl::context::pem, ec); });
        !read) {
      return read.error();
    }
    if (auto required = require_client_certificates(*context, files.client_ca_file); !required) return required.error();
    return context;
  }

  static Result<TlsContext> load_tls(const TlsCertificate& certificate, const std::string& client_ca_file) {
    auto context = server_context();
    if (auto used =
            tls_step("cannot use the TLS certificate",
                     [&](error_code& ec) { context->use_certificate_chain(asio::buffer(certificate.chain_pem), ec); });
        !used) {
      return used.error();
    }
    if (auto used = tls_step("cannot use the TLS private key",
                             [&](error_code& ec) {
                               context->use_private_key(asio::buffer(certificate.key_pem), ssl::context::pem, ec);
                             });
        !used) {
      return used.error();
    }
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
      return Error{"the TLS private key does not belong to the certificate"};
    }
    if (auto required = require_client_certificates(*context, client_ca_file); !required) return required.error();
    return context;
  }

  static Result<TlsContext> initial_tls(const HttpServerOptions& options) {
    if (options.tls) return load_tls(*options.tls);
    if (options.tls_certificate) return load_tls(*options.tls_certificate, "");
    return TlsContext{};
  }

 public:
  // The context for the next connection; sessions hold theirs, so a replaced one lives on with them.
  std::shared_ptr<ssl::context> tls() const {
    std::lock_guard lock(tls_mu_);
    return tls_;
  }

  Result<void> use_certificate(const TlsCertificate& certificate) {
    if (!options_.tls && !options_.tls_certificate) {
      throw std::logic_error(options_.what + " is not served over TLS: no certificate to replace");
    }
    auto context = load_tls(certificate, options_.tls ? options_.tls->client_ca_file : std::string());
    if (!context) return context.error();
    std::lock_guard lock(tls_mu_);
    tls_ = std::move(*context);
    return {};
  }

 private:
  void accept();

  // Declared in this order so that destroying the io_context, which releases any session still queued, finds
  // everything a session uses alive, and the acceptor and workers go before the io_context they use.
  HttpServerOptions options_;
  ListenAddress address_;
  HttpServer::Handler handler_;
  HttpServer::Refusal refuse_;
  std::atomic<bool> running_{false};
  int port_ = 0;
  static constexpr std::size_t kBurst = 256;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> peak_connections_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> buffered_{0};
  std::mutex sessions_mu_;  // guards sessions_ and streams_
  std::map<std::uint64_t, std::function<void()>> sessions_;
  std::set<StreamChannel*> streams_;  // those whose producers run
  std::uint64_t last_session_ = 0;
  mutable std::mutex tls_mu_;
  std::shared_ptr<ssl::context> tls_;
  asio::io_context io_;
  asio::thread_pool workers_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> io_threads_;
};

}  // namespace detail

namespace {

// Method, target and fields; the body is the caller's to move. HEAD is asked as GET (the answer loses its body).
Request request_from(const bhttp::request<bhttp::string_body>& message) {
  Request request;
  request.method = message.method() == bhttp::verb::head ? "GET" : std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = request.target.substr(0, request.target.find('?'));
  for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
  return request;
}

// The content type and extra headers of `response`.
void set_fields(bhttp::response_header<>& head, const Response& response) {
  if (!response.content_type.empty()) head.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) head.set(name, value);
}

// One connection: reads a request at a time (pipelined ones wait in the buffer), hands it to a worker or
// refuses it, writes the answer, and reads the next. Everything but the handler (and a streamed answer's producer)
// runs on the connection's strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  // `tls` is the context the stream was made with (null for plain TCP): the session keeps it alive.
  template <class... Args>
  Session(detail::ServerCore& server, std::shared_ptr<ssl::context> tls, Args&&... args)
      : server_(server),
        tls_(std::move(tls)),
        stream_(std::forward<Args>(args)...),
        write_timer_(stream_.get_executor()) {
    server_.connection_opened();
  }
  ~Session() {
    if (id_ != 0) server_.untrack(id_);
    release_budget();
    server_.connection_closed();
  }

  void start() {
    id_ = server_.track([weak = this->weak_from_this()] {
      if (auto self = weak.lock()) {
        error_code ignored;
        self->lowest().socket().close(ignored);
      }
    });
    lowest().expires_after(server_.options().request_timeout);
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
        if (ec) {
          spdlog::debug("{}: TLS handshake failed: {}", self->server_.options().what, ec.message());
          return;
        }
        self->read_request();
      });
    } else {
      read_request();
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read_request() {
    parser_.emplace();
    parser_->body_limit(server_.largest_body());
    body_limit_.reset();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options().max_header_bytes));
    continue_sent_ = false;
    lowest().expires_after(server_.options().request_timeout);
    read_some();
  }

  void read_some() {
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return refuse(413, "request body larger than " + std::to_string(server_.largest_body()) + " bytes");
    }
    if (ec == bhttp::error::header_limit) return refuse(431, "request header fields too large");
    if (ec) {
      // A client that went away or stalled past the timeout: nothing to answer. A malformed request gets 400.
      if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        return refuse(400, "malformed HTTP request: " + ec.message());
      }
      spdlog::debug("{}: connection closed while reading: {}", server_.options().what, ec.message());
      return;
    }
    if (!account_body()) {
      return refuse(503, "too many request bodies in transit; retry");
    }
    if (parser_->is_header_done()) {
      // The path's own limit, below the parser's when another path takes larger bodies.
      if (!body_limit_) {
        const auto raw = parser_->get().target();
        const std::string_view target(raw.data(), raw.size());
        body_limit_ = server_.body_limit(target.substr(0, target.find('?')));
      }
      const auto length = parser_->content_length();
      if ((length && *length > *body_limit_) || parser_->get().body().size() > *body_limit_) {
        return refuse(413, "request body larger than " + std::to_string(*body_limit_) + " bytes");
      }
    }
    if (!parser_->is_done()) {
      if (parser_->is_header_done() && !continue_sent_ &&
          beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
        continue_sent_ = true;
        return send_continue();
      }
      return read_some();
    }
    dispatch();
  }

  // Counts the body bytes received so far against the server's budget; false when it is spent.
  bool account_body() {
    if (!parser_->is_header_done()) return true;
    const std::size_t now = parser_->get().body().size();
    if (now <= counted_) return true;
    const std::size_t total = server_.buffered().fetch_add(now - counted_) + (now - counted_);
    counted_ = now;
    return total <= server_.options().max_buffered_bytes;
  }

  void release_budget() {
    server_.buffered().fetch_sub(counted_);
    counted_ = 0;
  }

  void send_continue() {
    continue_ = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    bhttp::async_write(stream_, *continue_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return;
      self->read_some();
    });
  }

  void dispatch() {
    keep_alive_ = parser_->get().keep_alive();
    version_ = parser_->get().version();
    head_ = parser_->get().method() == bhttp::verb::head;
    auto request = std::make_shared<Request>(request_from(parser_->get()));
    if (parser_->get().method() == bhttp::verb::trace) {
      // TRACE would echo the request's headers (credentials, cookies) back: no surface serves it.
      request->headers.clear();
      return write(server_.refusal(*request, 405, "TRACE is not served"), false);
    }
    request->body = std::move(parser_->get().body());
    detail::ServerCore::attach_socket(*request, static_cast<int>(lowest().socket().native_handle()));
    if (server_.runs_inline(*request)) return write(server_.handle_inline(*request), false);
    if (server_.in_flight().fetch_add(1) >= static_cast<std::size_t>(server_.options().max_in_flight)) {
      --server_.in_flight();
      Response busy = server_.refusal(*request, 503, "too many requests in progress; retry");
      busy.headers.emplace_back("Retry-After", "1");
      return write(std::move(busy), false);
    }
    asio::post(server_.workers(), [self = this->shared_from_this(), request] {
      auto response = std::make_shared<Response>(self->server_.handle(*request));
      if (response->stream) return self->stream(*request, *response);
      asio::post(self->stream_.get_executor(), [self, response] {
        --self->server_.in_flight();
        self->write(std::move(*response), false);
      });
    });
  }

  // On the worker that ran the handler: the head goes to the connection's strand, then the producer's writes as it
  // makes them. HTTP/1.0 has no chunks: the bytes go as they are and the close ends them. What a producer that
  // throws wrote still goes out, without the last chunk, and the connection closes: the client sees it unfinished.
  void stream(const Request& request, const Response& response) {
    const bool head = head_;
    const bool chunked = version_ >= 11;
    const bool keep_alive = keep_alive_ && chunked;
    bhttp::response<bhttp::empty_body> message(static_cast<bhttp::status>(response.status), version_);
    set_fields(message, response);
    message.keep_alive(keep_alive);
    message.chunked(chunked);
    std::ostringstream text;
    text << message.base();
    auto channel = std::make_shared<detail::StreamChannel>(
        text.str(), server_.options().max_stream_buffer_bytes, [weak = this->weak_from_this()] {
          if (auto self = weak.lock()) asio::post(self->stream_.get_executor(), [self] { self->send_stream(); });
        });
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this(), channel] { self->begin_stream(std::move(channel)); });
    const bool whole = head || server_.produce(request, response, *channel, chunked);
    --server_.in_flight();
    channel->finish(whole && chunked && !head ? "0\r\n\r\n" : "", whole && keep_alive);
  }

  void begin_stream(std::shared_ptr<detail::StreamChannel> channel) {
    release_budget();
    parser_.reset();
    // Each write has its own deadline instead (send_stream). The stream's timeout would also close the socket,
    // which the producer may be asking about (client_gone) and the kernel may give to another connection.
    lowest().expires_never();
    // Each event goes out as written, not held back (Nagle) until the client acknowledges the one before.
    error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);
    channel_ = std::move(channel);
    send_stream();
  }

  // Sends what the producer has written, a write at a time; each must make progress within stream_write_timeout.
  void send_stream() {
    if (!channel_ || writing_) return;
    if (channel_->failed()) return abandon_stream();
    if (sent_ == sending_.size()) {
      auto taken = channel_->take();
      if (taken.bytes.empty()) {
        if (taken.end) end_stream(taken.keep_alive);
        return;
      }
      sending_ = std::move(taken.bytes);
      sent_ = 0;
    }
    writing_ = true;
    write_timer_.expires_after(server_.options().stream_write_timeout);
    write_timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      // An expiry that raced the write's completion leaves the next write alone.
      if (!ec && self->writing_ && self->write_timer_.expiry() <= std::chrono::steady_clock::now()) {
        self->lowest().cancel();
      }
    });
    stream_.async_write_some(
        asio::buffer(sending_.data() + sent_, sending_.size() - sent_),
        [self = this->shared_from_this()](error_code ec, std::size_t count) { self->on_stream_sent(ec, count); });
  }

  void on_stream_sent(error_code ec, std::size_t count) {
    writing_ = false;
    write_timer_.cancel();
    if (ec) {
      spdlog::debug("{}: stream cut off, the client went away or stopped reading: {}", server_.options().what,
                    ec.message());
      return abandon_stream();
    }
    sent_ += count;
    channel_->sent(count);
    send_stream();
  }

  // The producer may not write on; the connection cannot carry another answer.
  void abandon_stream() {
    channel_->fail();
    channel_.reset();
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  void end_stream(bool keep_alive) {
    channel_.reset();
    sending_ = std::string();
    sent_ = 0;
    answered(keep_alive);
  }

  void refuse(int status, const std::string& reason) {
    // What was parsed of the request line and fields, complete or not: the refusal may depend on the path.
    Request request;
    if (parser_) request = request_from(parser_->get());
    version_ = parser_ && parser_->get().version() == 10 ? 10 : 11;
    head_ = parser_ && parser_->is_header_done() && parser_->get().method() == bhttp::verb::head;
    spdlog::debug("{}: refused {} {}: {}", server_.options().what, request.method, request.path, reason);
    // The rest of the request is unread: the connection cannot carry another one.
    write(server_.refusal(request, status, reason), true);
  }

  void write(Response response, bool close) {
    release_budget();
    parser_.reset();
    response_ =
        std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(response.status), version_);
    set_fields(*response_, response);
    response_->body() = std::move(response.body);
    response_->keep_alive(keep_alive_ && !close);
    response_->prepare_payload();
    // A HEAD answer is the GET answer's headers, its Content-Length included, and nothing after them.
    if (head_) response_->body().clear();
    lowest().expires_after(server_.options().request_timeout);
    bhttp::async_write(stream_, *response_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        spdlog::debug("{}: answer not delivered, the client went away: {}", self->server_.options().what, ec.message());
        return;
      }
      self->answered(self->response_->keep_alive());
    });
  }

  // After a whole answer: the next request on a kept-alive connection, or the connection's end.
  void answered(bool keep_alive) {
    if (!keep_alive) {
      error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    keep_alive_ = true;
    read_request();
  }

  detail::ServerCore& server_;
  std::shared_ptr<ssl::context> tls_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
  std::shared_ptr<bhttp::response<bhttp::empty_body>> continue_;
  // A streamed answer's: the producer's bytes, those taken and not all sent yet, and the deadline of their write.
  std::shared_ptr<detail::StreamChannel> channel_;
  std::string sending_;
  std::size_t sent_ = 0;
  bool writing_ = false;
  asio::steady_timer write_timer_;
  std::uint64_t id_ = 0;
  std::size_t counted_ = 0;
  bool keep_alive_ = true;
  bool head_ = false;
  bool continue_sent_ = false;
  std::optional<std::size_t> body_limit_;  // the request's path's, once its header is read
  unsigned version_ = 11;
};

}  // namespace

void detail::ServerCore::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (connections_.load() >= static_cast<std::size_t>(options_.max_connections)) {
        error_code ignored;
        socket.close(ignored);
      } else if (auto context = tls()) {
        auto& used = *context;
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(context), std::move(socket),
                                                                        used)
            ->start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(*this, nullptr, std::move(socket))->start();
      }
    } else {
      // Out of file descriptors, typically: keep serving those we have.
      spdlog::warn("{}: accepting a connection failed: {}", options_.what, ec.message());
    }
    accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler, Refusal refuse)
    : core_(std::make_unique<detail::ServerCore>(std::move(options), std::move(handler), std::move(refuse))) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::start() { return core_->start(); }
void HttpServer::stop() { core_->stop(); }
int HttpServer::port() const { return core_->port(); }
Result<void> HttpServer::use_certificate(const TlsCertificate& certificate) {
  return core_->use_certificate(certificate);
}
HttpServer::Counters HttpServer::counters() const { return core_->counters(); }

}  // namespace tpustack::http
