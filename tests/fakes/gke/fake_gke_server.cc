#include "tests/fakes/gke/fake_gke_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
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

// GKE's node pool names: lower-case letters, digits and dashes, a letter first, at most 40 characters.
bool valid_pool_name(const std::string& name) {
  static const std::regex pattern("[a-z]([-a-z0-9]{0,38}[a-z0-9])?");
  return std::regex_match(name, pattern);
}

// TPU machine types end in the chips of one VM: ct6e-standard-4t, ct5lp-hightpu-8t, tpu7x-standard-4t.
int tpu_chips_per_vm(const std::string& machine_type) {
  if (!(starts_with(machine_type, "ct") || starts_with(machine_type, "tpu")) || !machine_type.ends_with("t")) return 0;
  const std::size_t dash = machine_type.rfind('-');
  if (dash == std::string::npos) return 0;
  try {
    return std::stoi(machine_type.substr(dash + 1, machine_type.size() - dash - 2));
  } catch (const std::exception&) {
    return 0;
  }
}

// Chips of a topology "2x4" or "4x4x8"; 0 when it is none.
int topology_chips(const std::string& topology) {
  static const std::regex pattern("[1-9][0-9]*(x[1-9][0-9]*){1,2}");
  if (!std::regex_match(topology, pattern)) return 0;
  int chips = 1;
  std::size_t start = 0;
  while (start <= topology.size()) {
    std::size_t end = topology.find('x', start);
    chips *= std::stoi(topology.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return chips;
}

std::string region_of(const std::string& location) {
  return std::count(location.begin(), location.end(), '-') >= 2 ? location.substr(0, location.rfind('-')) : location;
}

// What GKE's busy answer says the running operation is doing.
std::string busy_doing(const std::string& type, const std::string& cluster) {
  if (type == "CREATE_NODE_POOL") return "creating a node pool for cluster " + cluster;
  if (type == "DELETE_NODE_POOL") return "deleting a node pool for cluster " + cluster;
  if (type == "SET_NODE_POOL_SIZE") return "setting the size of a node pool for cluster " + cluster;
  return "upgrading cluster " + cluster;
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

void FakeGkeServer::set_one_operation_at_a_time(bool on) {
  std::lock_guard lock(mu_);
  options_.one_operation_at_a_time = on;
}

std::string FakeGkeServer::start_cluster_operation(const std::string& type, std::chrono::milliseconds latency) {
  std::lock_guard lock(mu_);
  settle();
  return start_operation({json::object(), "", type, 0, {}, nullptr}, latency).body["name"].get<std::string>();
}

std::string FakeGkeServer::operation_of(const std::string& pool) const {
  std::lock_guard lock(mu_);
  std::string latest;
  int latest_id = 0;
  for (const auto& [name, op] : operations_) {
    const int id = std::stoi(name.substr(std::string("operation-").size()));
    if (op.pool == pool && id > latest_id) latest = name, latest_id = id;
  }
  return latest;
}

void FakeGkeServer::revoke_tokens() {
  std::lock_guard lock(mu_);
  tokens_.clear();
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
  const std::string cluster_path = location + "/clusters/" + options_.cluster;
  if (request.path == cluster_path && request.method == "GET") {
    json cluster = {{"name", options_.cluster},
                    {"location", options_.location},
                    {"locations", options_.zones},
                    {"currentMasterVersion", options_.master_version},
                    {"status", "RUNNING"}};
    if (!options_.release_channel.empty()) cluster["releaseChannel"] = {{"channel", options_.release_channel}};
    return {200, cluster};
  }
  const std::string pools_path = cluster_path + "/nodePools";
  if (starts_with(request.path, pools_path)) return node_pools(request, request.path.substr(pools_path.size()));
  const std::string operations_path = location + "/operations/";
  if (starts_with(request.path, operations_path)) {
    return operations(request, request.path.substr(operations_path.size()));
  }
  if (starts_with(request.path, "/compute/v1/projects/" + options_.project + "/regions/")) {
    return resource_policies(request);
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
  if (rest.empty() && request.method == "POST") return create_pool(request);
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
    if (auto refusal = cluster_busy()) return *refusal;
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
  if (auto refusal = cluster_busy()) return *refusal;
  if (auto refusal = quota_exceeded()) return *refusal;
  pools_[pool]["status"] = "RECONCILING";
  return start_operation({json::object(), pool, "SET_NODE_POOL_SIZE", count.get<int>(), {}, nullptr},
                         options_.resize_latency);
}

FakeGkeServer::Reply FakeGkeServer::create_pool(const Request& request) {
  if (!request.body.is_object() || !request.body.contains("nodePool") || !request.body["nodePool"].is_object() ||
      !request.body["nodePool"].value("name", "").size()) {
    return error_reply(400, "INVALID_ARGUMENT", "nodePool.name is required");
  }
  json pool = request.body["nodePool"];
  std::string name = pool["name"];
  if (pools_.contains(name)) return error_reply(409, "ALREADY_EXISTS", "Node pool \"" + name + "\" already exists.");
  if (auto refusal = invalid_node_pool(pool)) return *refusal;
  if (auto refusal = cluster_busy()) return *refusal;
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

// The rules of the container v1 API and GKE's TPU docs, not the shape of any client's body.
std::optional<FakeGkeServer::Reply> FakeGkeServer::invalid_node_pool(json& pool) const {
  auto invalid = [](const std::string& message) { return error_reply(400, "INVALID_ARGUMENT", message); };
  const std::string name = pool["name"];
  if (!valid_pool_name(name)) return invalid("Invalid node pool name \"" + name + "\".");
  const json count = pool.value("initialNodeCount", json());
  if (!count.is_number_integer() || count.get<int>() < 0) return invalid("initialNodeCount must be a whole number");
  if (!pool.contains("locations")) pool["locations"] = options_.zones;  // GKE builds it in every zone
  if (!pool["locations"].is_array() || pool["locations"].empty()) return invalid("locations must list zones");
  for (const json& zone : pool["locations"]) {
    if (!zone.is_string() ||
        std::find(options_.zones.begin(), options_.zones.end(), zone.get<std::string>()) == options_.zones.end()) {
      return invalid("Location " + zone.dump() + " is not one of the locations of cluster " + options_.cluster + ".");
    }
  }
  const json management = pool.value("management", json::object());
  if (!options_.release_channel.empty() && management.value("autoUpgrade", true) == false) {
    return invalid("Auto_upgrade cannot be false when release_channel " + options_.release_channel + " is set.");
  }
  const json config = pool.value("config", json::object());
  const std::string machine_type = config.value("machineType", "");
  const int chips_per_vm = tpu_chips_per_vm(machine_type);
  const json placement = pool.value("placementPolicy", json::object());
  if (chips_per_vm == 0 || placement.empty()) return std::nullopt;
  const bool tpu7x = starts_with(machine_type, "tpu7x");
  std::string topology = placement.value("tpuTopology", "");
  if (tpu7x && placement.value("type", "") == "COMPACT") {
    return invalid("COMPACT placement is not supported for " + machine_type + "; name a workload policy instead.");
  }
  if (const std::string policy = placement.value("policyName", ""); !policy.empty()) {
    auto found = options_.workload_policies.find(policy);
    if (found == options_.workload_policies.end()) {
      return invalid("The resource policy \"" + policy + "\" was not found in region " + region_of(options_.location) +
                     ".");
    }
    topology = found->second;
  }
  if (topology.empty()) return std::nullopt;
  const int chips = topology_chips(topology);
  if (chips == 0) return invalid("Invalid TPU topology \"" + topology + "\".");
  if (chips <= chips_per_vm) {
    return invalid("TPU topology " + topology + " fits one " + machine_type +
                   " node: a single-host node pool takes no placement policy.");
  }
  if (pool["locations"].size() != 1) {
    return invalid("A multi-host TPU slice node pool must be in exactly one zone; got " + pool["locations"].dump() +
                   ".");
  }
  if (count.get<int>() != chips / chips_per_vm) {
    return invalid("initialNodeCount " + count.dump() + " does not make TPU topology " + topology + ": it needs " +
                   std::to_string(chips / chips_per_vm) + " nodes of " + machine_type + ".");
  }
  return std::nullopt;
}

std::optional<FakeGkeServer::Reply> FakeGkeServer::cluster_busy() const {
  if (!options_.one_operation_at_a_time) return std::nullopt;
  for (const auto& [name, op] : operations_) {
    if (op.resource["status"] != "RUNNING") continue;
    return error_reply(400, "FAILED_PRECONDITION",
                       "Operation " + name + " is currently " + busy_doing(op.type, options_.cluster) +
                           ". Please wait and try again once it is done.");
  }
  return std::nullopt;
}

FakeGkeServer::Reply FakeGkeServer::operations(const Request& request, const std::string& rest) {
  const std::string cancel_verb = ":cancel";
  const bool cancelling = rest.ends_with(cancel_verb);
  auto it = operations_.find(cancelling ? rest.substr(0, rest.size() - cancel_verb.size()) : rest);
  if (it == operations_.end()) return error_reply(404, "NOT_FOUND", "Operation \"" + rest + "\" not found.");
  Operation& op = it->second;
  if (!cancelling) {
    return request.method == "GET" ? Reply{200, op.resource} : error_reply(405, "INVALID_ARGUMENT", "use GET");
  }
  if (request.method != "POST") return error_reply(405, "INVALID_ARGUMENT", "cancel takes POST");
  if (op.resource["status"] != "RUNNING") {
    return error_reply(400, "FAILED_PRECONDITION", "Operation " + it->first + " is already done.");
  }
  cancel(op);
  return {200, json::object()};
}

// A cancelled create leaves no pool; a cancelled delete or resize leaves the pool as it was.
void FakeGkeServer::cancel(Operation& op) {
  op.resource["status"] = "DONE";
  op.resource["statusMessage"] = "Operation was cancelled.";
  op.resource["error"] = {{"code", 1}, {"message", "Operation was cancelled."}};
  auto pool = pools_.find(op.pool);
  if (pool == pools_.end()) return;
  if (op.type == "CREATE_NODE_POOL") {
    pools_.erase(pool);
    sizes_.erase(op.pool);
  } else {
    pool->second["status"] = "RUNNING";
  }
}

bool FakeGkeServer::cancel_operation(const std::string& name) {
  std::lock_guard lock(mu_);
  settle();
  auto it = operations_.find(name);
  if (it == operations_.end() || it->second.resource["status"] != "RUNNING") return false;
  cancel(it->second);
  return true;
}

// Compute Engine's resourcePolicies: the workload policies of the cluster's region.
FakeGkeServer::Reply FakeGkeServer::resource_policies(const Request& request) {
  const std::string region = region_of(options_.location);
  const std::string base = "/compute/v1/projects/" + options_.project + "/regions/" + region + "/resourcePolicies";
  auto policy = [&](const std::string& name, const std::string& topology) {
    return json{{"kind", "compute#resourcePolicy"},
                {"name", name},
                {"region", region},
                {"status", "READY"},
                {"workloadPolicy", {{"type", "HIGH_THROUGHPUT"}, {"acceleratorTopology", topology}}}};
  };
  if (request.method == "GET" && request.path == base) {
    json items = json::array();
    for (const auto& [name, topology] : options_.workload_policies) items.push_back(policy(name, topology));
    return {200, {{"kind", "compute#resourcePolicyList"}, {"items", items}}};
  }
  if (request.method == "GET" && starts_with(request.path, base + "/")) {
    const std::string name = request.path.substr(base.size() + 1);
    auto found = options_.workload_policies.find(name);
    if (found != options_.workload_policies.end()) return {200, policy(name, found->second)};
    return {404,
            {{"error",
              {{"code", 404},
               {"message", "The resource 'projects/" + options_.project + "/regions/" + region + "/resourcePolicies/" +
                               name + "' was not found"}}}}};
  }
  return error_reply(404, "NOT_FOUND", "no such resource: " + request.path);
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
                                    options_.cluster + (op.pool.empty() ? "" : "/nodePools/" + op.pool)}};
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
