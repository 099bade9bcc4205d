#include "tests/fakes/gke/fake_gke_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>
#include "tests/support/free_port.h"

namespace tpustack::fakes {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

std::string header(const web::http::http_headers& headers, const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

}  // namespace

FakeGkeServer::FakeGkeServer() : FakeGkeServer(Options{}) {}
FakeGkeServer::FakeGkeServer(Options options) : options_(std::move(options)) {}
FakeGkeServer::~FakeGkeServer() { stop(); }

std::string FakeGkeServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeGkeServer::start() {
  port_ = options_.port != 0 ? options_.port : testing::free_port();
  listener_ = std::make_unique<web::http::experimental::listener::http_listener>(url());
  listener_->support([this](web::http::http_request request) { handle(std::move(request)); });
  listener_->open().wait();
  spdlog::info("fake GKE listening on {}", url());
}

void FakeGkeServer::stop() {
  if (!listener_) return;
  listener_->close().wait();
  listener_.reset();
}

void FakeGkeServer::inject(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void FakeGkeServer::fail_next_creates(int count, int code, const std::string& message) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < count; ++i) create_failures_.push_back({{"code", code}, {"message", message}});
}

void FakeGkeServer::set_create_latency(std::chrono::milliseconds latency) {
  std::lock_guard lock(mu_);
  options_.create_latency = latency;
}

void FakeGkeServer::set_max_concurrent_operations(int count) {
  std::lock_guard lock(mu_);
  options_.max_concurrent_operations = count;
}

std::vector<FakeGkeServer::Request> FakeGkeServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

int FakeGkeServer::count(const std::string& method, const std::string& path_contains) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const Request& r : requests_) n += r.method == method && r.path.find(path_contains) != std::string::npos;
  return n;
}

std::map<std::string, json> FakeGkeServer::pools() {
  std::lock_guard lock(mu_);
  settle();
  return pools_;
}

std::map<std::string, int> FakeGkeServer::pool_sizes() {
  std::lock_guard lock(mu_);
  settle();
  return sizes_;
}

int FakeGkeServer::creates_accepted() const {
  std::lock_guard lock(mu_);
  return creates_accepted_;
}

int FakeGkeServer::token_requests() const {
  std::lock_guard lock(mu_);
  return token_requests_;
}

int FakeGkeServer::max_operations_seen() const {
  std::lock_guard lock(mu_);
  return max_operations_seen_;
}

void FakeGkeServer::handle(web::http::http_request request) {
  Request recorded;
  recorded.method = request.method();
  recorded.path = request.relative_uri().path();
  recorded.authorization = header(request.headers(), "Authorization");
  recorded.metadata_flavor = header(request.headers(), "Metadata-Flavor");
  std::string body = request.extract_utf8string(true).get();
  if (!body.empty()) recorded.body = json::parse(body, nullptr, /*allow_exceptions=*/false);
  Reply reply;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(recorded);
    settle();
    reply = route(recorded);
  }
  if (reply.body.is_string()) {
    request.reply(static_cast<web::http::status_code>(reply.status), reply.body.get<std::string>(), "text/plain");
  } else {
    request.reply(static_cast<web::http::status_code>(reply.status), reply.body.dump(), "application/json");
  }
}

FakeGkeServer::Reply FakeGkeServer::error_reply(int status, const std::string& rpc_status, const std::string& message) {
  return {status, {{"error", {{"code", status}, {"message", message}, {"status", rpc_status}}}}};
}

FakeGkeServer::Reply FakeGkeServer::route(const Request& request) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if ((!it->method.empty() && it->method != request.method) ||
        request.path.find(it->path_contains) == std::string::npos) {
      continue;
    }
    Reply reply = error_reply(it->http_status, it->rpc_status, it->message);
    if (--it->times <= 0) faults_.erase(it);
    return reply;
  }
  if (starts_with(request.path, "/computeMetadata/v1/")) return metadata(request);
  if (request.authorization.rfind("Bearer ", 0) != 0 || !tokens_.contains(request.authorization.substr(7))) {
    return error_reply(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
  }
  const std::string location = "/v1/projects/" + options_.project + "/locations/" + options_.location;
  const std::string pools_path = location + "/clusters/" + options_.cluster + "/nodePools";
  if (starts_with(request.path, pools_path)) return node_pools(request, request.path.substr(pools_path.size()));
  const std::string operations_path = location + "/operations/";
  if (request.method == "GET" && starts_with(request.path, operations_path)) {
    auto it = operations_.find(request.path.substr(operations_path.size()));
    if (it == operations_.end()) return error_reply(404, "NOT_FOUND", "operation not found");
    return {200, it->second.resource};
  }
  return error_reply(404, "NOT_FOUND", "no such resource: " + request.path);
}

FakeGkeServer::Reply FakeGkeServer::metadata(const Request& request) {
  if (request.metadata_flavor != "Google") {
    return error_reply(403, "PERMISSION_DENIED", "Missing Metadata-Flavor:Google header.");
  }
  const std::string key = request.path.substr(std::string("/computeMetadata/v1/").size());
  if (key == "instance/service-accounts/default/token") {
    ++token_requests_;
    std::string token = "token-" + std::to_string(token_requests_);
    tokens_.insert(token);
    return {200, {{"access_token", token}, {"expires_in", options_.token_expires_in_s}, {"token_type", "Bearer"}}};
  }
  // Plain-text values, as the metadata server sends them.
  if (key == "project/project-id") return {200, options_.project};
  if (key == "instance/attributes/cluster-name") return {200, options_.cluster};
  if (key == "instance/attributes/cluster-location") return {200, options_.location};
  return error_reply(404, "NOT_FOUND", "no metadata " + key);
}

FakeGkeServer::Reply FakeGkeServer::node_pools(const Request& request, const std::string& rest) {
  if (rest.empty() && request.method == "GET") {
    json list = json::array();
    for (const auto& [name, pool] : pools_) list.push_back(pool);
    return {200, list.empty() ? json::object() : json{{"nodePools", list}}};
  }
  if (rest.empty() && request.method == "POST") {
    if (!request.body.is_object() || !request.body.contains("nodePool") ||
        !request.body["nodePool"].value("name", "").size()) {
      return error_reply(400, "INVALID_ARGUMENT", "nodePool.name is required");
    }
    json pool = request.body["nodePool"];
    std::string name = pool["name"];
    if (pools_.contains(name)) return error_reply(409, "ALREADY_EXISTS", "Node pool \"" + name + "\" already exists.");
    if (auto refusal = quota_exceeded()) return *refusal;
    pool["status"] = "PROVISIONING";
    pools_[name] = pool;
    sizes_[name] = pool.value("initialNodeCount", 0);
    ++creates_accepted_;
    json error;
    if (!create_failures_.empty()) {
      error = create_failures_.front();
      create_failures_.erase(create_failures_.begin());
    }
    return start_operation({json::object(), name, "CREATE_NODE_POOL", 0, {}, error}, options_.create_latency);
  }
  if (rest.size() < 2 || rest[0] != '/') return error_reply(404, "NOT_FOUND", "no such resource");
  const std::string set_size_verb = ":setSize";
  const bool resize = rest.size() > set_size_verb.size() && rest.ends_with(set_size_verb);
  const std::string name = rest.substr(1, rest.size() - 1 - (resize ? set_size_verb.size() : 0));
  auto it = pools_.find(name);
  if (it == pools_.end()) return error_reply(404, "NOT_FOUND", "Node pool \"" + name + "\" not found.");
  if (resize) {
    return request.method == "POST" ? set_size(request, name)
                                    : error_reply(405, "INVALID_ARGUMENT", "setSize takes POST");
  }
  if (request.method == "GET") return {200, it->second};
  if (request.method == "DELETE") {
    if (auto refusal = quota_exceeded()) return *refusal;
    it->second["status"] = "STOPPING";
    return start_operation({json::object(), name, "DELETE_NODE_POOL", 0, {}, nullptr}, options_.delete_latency);
  }
  return error_reply(405, "INVALID_ARGUMENT", "method not allowed");
}

// As GKE checks it: a whole non-negative nodeCount, and no other operation on the pool.
FakeGkeServer::Reply FakeGkeServer::set_size(const Request& request, const std::string& pool) {
  const json count = request.body.is_object() ? request.body.value("nodeCount", json()) : json();
  if (!count.is_number_integer() || count.get<int>() < 0) {
    return error_reply(400, "INVALID_ARGUMENT", "nodeCount must be a non-negative integer");
  }
  if (pools_[pool].value("status", "") != "RUNNING") {
    return error_reply(400, "FAILED_PRECONDITION",
                       "Cluster is running incompatible operation on node pool \"" + pool + "\".");
  }
  if (auto refusal = quota_exceeded()) return *refusal;
  pools_[pool]["status"] = "RECONCILING";
  return start_operation({json::object(), pool, "SET_NODE_POOL_SIZE", count.get<int>(), {}, nullptr},
                         options_.resize_latency);
}

std::optional<FakeGkeServer::Reply> FakeGkeServer::quota_exceeded() const {
  if (options_.max_concurrent_operations <= 0 || running_operations() < options_.max_concurrent_operations) {
    return std::nullopt;
  }
  return error_reply(429, "RESOURCE_EXHAUSTED",
                     "Too many operations: cluster " + options_.cluster + " hits the concurrent operations quota " +
                         std::to_string(options_.max_concurrent_operations));
}

FakeGkeServer::Reply FakeGkeServer::start_operation(Operation op, std::chrono::milliseconds latency) {
  std::string name = "operation-" + std::to_string(next_id_++);
  op.done_at = SteadyClock::now() + latency;
  op.resource = {{"name", name},
                 {"operationType", op.type},
                 {"status", "RUNNING"},
                 {"targetLink", "projects/" + options_.project + "/locations/" + options_.location + "/clusters/" +
                                    options_.cluster + "/nodePools/" + op.pool}};
  json resource = op.resource;
  operations_[name] = std::move(op);
  max_operations_seen_ = std::max(max_operations_seen_, running_operations());
  return {200, resource};
}

int FakeGkeServer::running_operations() const {
  int n = 0;
  for (const auto& [name, op] : operations_) n += op.resource["status"] == "RUNNING";
  return n;
}

void FakeGkeServer::settle() {
  const auto now = SteadyClock::now();
  for (auto& [name, op] : operations_) {
    if (op.resource["status"] != "RUNNING" || now < op.done_at) continue;
    op.resource["status"] = "DONE";
    if (!op.error.is_null()) op.resource["error"] = op.error;
    auto pool = pools_.find(op.pool);
    if (pool == pools_.end()) continue;
    if (op.type == "DELETE_NODE_POOL") {
      pools_.erase(pool);
      sizes_.erase(op.pool);
    } else if (op.error.is_null()) {
      pool->second["status"] = "RUNNING";
      if (op.type == "SET_NODE_POOL_SIZE") sizes_[op.pool] = op.node_count;
    } else {
      pool->second["status"] = "ERROR";
      pool->second["statusMessage"] = op.error.value("message", "");
    }
  }
}

}  // namespace tpustack::fakes
