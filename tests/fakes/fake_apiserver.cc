#include "tests/fakes/fake_apiserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "tests/fakes/mutating_admission.h"

namespace tpustack::fakes {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string failure_body(const ApiFailure& failure) { return failure.status().dump(); }

std::string event_line(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

std::string media_type(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

}  // namespace

FakeApiServer::FakeApiServer() : FakeApiServer(Options{}) {}

FakeApiServer::FakeApiServer(Options options) : options_(std::move(options)), store_(options_.history_limit) {}

FakeApiServer::~FakeApiServer() { stop(); }

std::string FakeApiServer::url() const { return "http://" + options_.host + ":" + std::to_string(port_); }

void FakeApiServer::start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("fake apiserver: socket: ") + std::strerror(errno));
  int on = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options_.port);
  if (::inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("fake apiserver: not an IPv4 address: " + options_.host);
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    std::string error = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    throw std::runtime_error("fake apiserver: cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                             ": " + error);
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  stopping_ = false;
  acceptor_ = std::thread([this] { accept_loop(); });
  spdlog::info("fake apiserver listening on {}", url());
}

void FakeApiServer::stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  // shutdown() wakes the blocked accept(); close() alone would not.
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  store_.wake_all();
  std::list<Connection> connections;
  {
    std::lock_guard lock(mu_);
    for (auto& connection : connections_) {
      if (connection.fd >= 0) ::shutdown(connection.fd, SHUT_RDWR);
    }
    connections.splice(connections.end(), connections_);
  }
  for (auto& connection : connections) connection.thread.join();
}

void FakeApiServer::accept_loop() {
  while (!stopping_) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    std::lock_guard lock(mu_);
    connections_.remove_if([](Connection& c) {
      if (!c.done) return false;
      c.thread.join();
      return true;
    });
    if (stopping_) {
      ::close(fd);
      return;
    }
    Connection& connection = connections_.emplace_back();
    connection.fd = fd;
    connection.thread = std::thread([this, &connection] { serve(connection); });
  }
}

void FakeApiServer::close_connection(Connection& connection) {
  std::lock_guard lock(mu_);
  ::close(connection.fd);
  connection.fd = -1;
  connection.done = true;
}

void FakeApiServer::serve(Connection& connection) {
  std::string buffer;
  try {
    while (!stopping_) {
      auto request = read_request(connection.fd, buffer);
      if (!request || !handle(connection.fd, *request)) break;
    }
  } catch (const std::exception& e) {
    send_all(connection.fd,
             format_response(400, "application/json", status_object(400, "BadRequest", e.what()).dump()));
  }
  close_connection(connection);
}

bool FakeApiServer::handle(int fd, const HttpRequest& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  {
    std::lock_guard lock(mu_);
    requests_.push_back(
        {request.method, request.target, request.header("authorization"), request.header("content-type")});
  }
  const bool keep_alive = request.header("connection") != "close";
  // As the API server, which keeps the connection after an error status: a client reuses it for its retry.
  if (auto answered = answer_fault(fd, request, path)) return *answered && keep_alive;
  Reply reply;
  if (starts_with(path, "/fake/")) {
    reply = control(path);
  } else if (path == "/healthz" || path == "/readyz") {
    reply = {200, "ok", "text/plain"};
  } else if (auto api_path = parse_api_path(request.target)) {
    if (request.method == "GET" && api_path->name.empty() && api_path->query_value("watch") != "" &&
        api_path->query_value("watch") != "0" && api_path->query_value("watch") != "false") {
      return serve_watch(fd, *api_path) && keep_alive;
    }
    reply = dispatch(request, *api_path);
  } else {
    reply = {404, status_object(404, "NotFound", "the server could not find the requested resource").dump()};
  }
  return send_all(fd, format_response(reply.status, reply.content_type, reply.body)) && keep_alive;
}

std::optional<bool> FakeApiServer::answer_fault(int fd, const HttpRequest& request, const std::string& path) {
  Fault fault;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(faults_.begin(), faults_.end(), [&](const Fault& f) {
      return (f.method.empty() || f.method == request.method) && starts_with(path, f.path_prefix);
    });
    if (it == faults_.end()) return std::nullopt;
    fault = *it;
    if (it->times > 0 && --it->times == 0) faults_.erase(it);
  }
  if (fault.latency.count() > 0) std::this_thread::sleep_for(fault.latency);
  if (fault.status == 0) return std::nullopt;
  std::string body =
      fault.body.empty() ? status_object(fault.status, "InternalError", "injected fault").dump() : fault.body;
  return send_all(fd, format_response(fault.status, fault.content_type, body));
}

FakeApiServer::Reply FakeApiServer::control(const std::string& path) {
  if (path == "/fake/drop-watches") {
    drop_watches();
  } else if (path == "/fake/compact") {
    compact();
  } else {
    return {404, status_object(404, "NotFound", "unknown fake control " + path).dump()};
  }
  return {200, json{{"resourceVersion", std::to_string(store_.resource_version())}}.dump()};
}

FakeApiServer::Reply FakeApiServer::dispatch(const HttpRequest& request, const ApiPath& path) {
  const std::string& method = request.method;
  const bool status_only = path.subresource == "status";
  try {
    json body;
    if (!request.body.empty() && method != "GET") {
      body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded()) throw ApiFailure(400, "BadRequest", "the request body is not JSON");
    }
    if (!path.subresource.empty() && path.subresource != "status" &&
        !(path.subresource == "binding" && method == "POST" && path.resource == GroupResource{"", "pods"})) {
      throw ApiFailure(404, "NotFound", "the fake does not serve subresource " + path.subresource);
    }
    if (method == "GET" && path.name.empty()) {
      FakeApiStore::ListOptions options;
      options.label_selector = path.query_value("labelSelector");
      options.field_selector = path.query_value("fieldSelector");
      if (std::string limit = path.query_value("limit"); !limit.empty()) options.limit = std::stoul(limit);
      options.continue_token = path.query_value("continue");
      return {200, store_.list(path.resource, path.ns, options).dump()};
    }
    if (method == "GET") return {200, store_.get(path.resource, path.ns, path.name).dump()};
    if (method == "POST" && path.subresource == "binding") {
      std::string node = body.value("target", json::object()).value("name", "");
      return {201, store_.bind(path.ns, path.name, node).dump()};
    }
    if (method == "POST" && path.name.empty()) {
      // As the API server: defaults, then mutating admission, then storage.
      if (path.resource == GroupResource{"", "pods"} && body.is_object() && body["spec"].is_object() &&
          body["spec"].value("schedulerName", "").empty()) {
        body["spec"]["schedulerName"] = "default-scheduler";
      }
      MutatingAdmission::ServiceRoutes services;
      {
        std::lock_guard lock(mu_);
        services = services_;
      }
      body = MutatingAdmission(store_, std::move(services))
                 .admit_create(path.resource, path.version, path.ns, std::move(body));
      return {201, store_.create(path.resource, path.ns, body).dump()};
    }
    if (method == "PUT" && !path.name.empty()) {
      return {200, store_.replace(path.resource, path.ns, path.name, body, status_only).dump()};
    }
    if (method == "PATCH" && !path.name.empty()) {
      const std::string type = media_type(request.header("content-type"));
      PatchKind kind;
      if (type == "application/merge-patch+json" || type == "application/strategic-merge-patch+json") {
        kind = PatchKind::kMerge;
      } else if (type == "application/json-patch+json") {
        kind = PatchKind::kJson;
      } else {
        throw ApiFailure(415, "UnsupportedMediaType", "the body of the request was in an unknown format: " + type);
      }
      return {200, store_.patch(path.resource, path.ns, path.name, body, kind, status_only).dump()};
    }
    if (method == "DELETE" && !path.name.empty()) {
      return {200, store_.remove(path.resource, path.ns, path.name).dump()};
    }
    throw ApiFailure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  } catch (const ApiFailure& failure) {
    return {failure.code(), failure_body(failure)};
  } catch (const std::exception& e) {
    return {400, status_object(400, "BadRequest", e.what()).dump()};
  }
}

void FakeApiServer::drop_watches() {
  ++drop_generation_;
  store_.wake_all();
}

void FakeApiServer::inject(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void FakeApiServer::route_service(const std::string& service, const std::string& address) {
  std::lock_guard lock(mu_);
  services_[service] = address;
}

void FakeApiServer::clear_faults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

std::vector<FakeApiServer::RecordedRequest> FakeApiServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t FakeApiServer::request_count(const std::string& method, const std::string& path_prefix) const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(requests_.begin(), requests_.end(), [&](const RecordedRequest& r) {
    return (method.empty() || r.method == method) && starts_with(r.target, path_prefix);
  }));
}

void FakeApiServer::clear_requests() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

bool FakeApiServer::serve_watch(int fd, const ApiPath& path) {
  LabelSelector labels;
  FieldSelector fields;
  try {
    labels = LabelSelector::parse(path.query_value("labelSelector"));
    fields = FieldSelector::parse(path.query_value("fieldSelector"));
  } catch (const std::invalid_argument& e) {
    return send_all(fd, format_response(400, "application/json", status_object(400, "BadRequest", e.what()).dump()));
  }
  const std::uint64_t generation = drop_generation_;
  struct OpenWatch {
    std::atomic<int>& count;
    explicit OpenWatch(std::atomic<int>& c) : count(c) { ++count; }
    ~OpenWatch() { --count; }
  } open(open_watches_);

  auto send_event = [&](const std::string& type, const json& object) {
    return send_all(fd, format_chunk(event_line(type, object)));
  };
  auto matches = [&](const std::string& ns, const json& object) {
    return (path.ns.empty() || ns == path.ns) && labels.matches(object) && fields.matches(object);
  };
  if (!send_all(fd, format_chunked_head(200, "application/json"))) return false;

  const std::string from = path.query_value("resourceVersion");
  std::uint64_t seen = 0;
  if (from.empty() || from == "0") {
    // No version: the current objects first, as ADDED, then changes after them.
    seen = store_.resource_version();
    for (const json& object : store_.objects(path.resource, path.ns)) {
      if (matches(object["metadata"].value("namespace", ""), object) && !send_event("ADDED", object)) return false;
    }
  } else {
    seen = std::stoull(from);
  }
  const bool bookmarks = path.query_value("allowWatchBookmarks") == "true";
  const std::string timeout = path.query_value("timeoutSeconds");
  const auto deadline =
      timeout.empty() ? Clock::time_point::max() : Clock::now() + std::chrono::seconds(std::stoi(timeout));
  auto next_bookmark = Clock::now() + options_.bookmark_interval;
  const std::string api_version = path.resource.group.empty() ? path.version : path.resource.group + "/" + path.version;

  while (true) {
    if (stopping_ || drop_generation_ != generation) {
      // An abrupt cut, not a clean end of stream: the client must notice and resume.
      ::shutdown(fd, SHUT_RDWR);
      return false;
    }
    FakeApiStore::Changes changes = store_.changes_after(seen);
    if (changes.gone) {
      json status = status_object(
          410, "Expired",
          "too old resource version: " + std::to_string(seen) + " (" + std::to_string(changes.resource_version) + ")");
      send_event("ERROR", status);
      return send_all(fd, format_chunk(""));
    }
    for (const StoredEvent& event : changes.events) {
      if (event.resource != path.resource) continue;
      // As the API server's watch cache does: an object that leaves the selection is DELETED for this watch,
      // one that enters it ADDED.
      const bool now = matches(event.ns, event.object);
      const bool before = event.type == "MODIFIED" && matches(event.ns, event.previous);
      std::string type = event.type;
      if (event.type == "MODIFIED" && now != before) type = now ? "ADDED" : "DELETED";
      if ((now || before) && !send_event(type, event.object)) return false;
    }
    seen = changes.resource_version;
    const auto now = Clock::now();
    if (now >= deadline) return send_all(fd, format_chunk(""));
    if (bookmarks && now >= next_bookmark) {
      json bookmark = {{"apiVersion", api_version}, {"metadata", {{"resourceVersion", std::to_string(seen)}}}};
      if (!send_event("BOOKMARK", bookmark)) return false;
      next_bookmark = now + options_.bookmark_interval;
    }
    store_.wait_for_change(seen, std::min(deadline, bookmarks ? next_bookmark : now + std::chrono::seconds(1)));
  }
}

}  // namespace tpustack::fakes
