#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace web::http {
class http_request;
namespace experimental::listener {
class http_listener;
}
}  // namespace web::http

namespace tpustack::fakes {

// GKE's container v1 node-pool API, Compute Engine's resource policies and the GCE metadata server, over a
// real socket on 127.0.0.1:
//   GET        /v1/projects/P/locations/L/clusters/C  (location, locations, releaseChannel, currentMasterVersion)
//   POST/GET   /v1/projects/P/locations/L/clusters/C/nodePools
//   GET/DELETE /v1/projects/P/locations/L/clusters/C/nodePools/NAME
//   POST       /v1/projects/P/locations/L/clusters/C/nodePools/NAME:setSize  {"nodeCount": N}
//   GET        /v1/projects/P/locations/L/operations/OP, POST .../operations/OP:cancel
//   GET        /compute/v1/projects/P/regions/R/resourcePolicies[/NAME]  (workload policies)
//   GET        /computeMetadata/v1/instance/service-accounts/default/token (and project-id,
//              instance/attributes/cluster-name, cluster-location), Metadata-Flavor: Google required.
// It refuses what GKE refuses: a create body against the API's rules (pool name, zones of the cluster, one
// zone for a multi-host TPU slice, autoUpgrade false on a release channel, COMPACT for tpu7x, a topology for a
// single host, a node count that does not make the topology, a workload policy that does not exist), and,
// with one_operation_at_a_time, any change while another operation runs on the cluster, with GKE's 400
// FAILED_PRECONDITION "Operation ... is currently ... Please wait and try again once it is done.".
// A pool created without `locations` is built in every zone of the cluster, as GKE does.
// Operations finish after a latency, may end with an `error`, and can be cancelled; requests may be refused
// with canned errors; the API wants a bearer token the metadata endpoint handed out. Thread-safe.
class FakeGkeServer {
 public:
  struct Options {
    std::string project = "proj";
    std::string location = "us-east5";  // a region: a regional cluster
    std::string cluster = "tpu-cluster";
    std::vector<std::string> zones = {"us-east5-a", "us-east5-b", "us-east5-c"};
    std::string release_channel;  // "" none, else "REGULAR", "RAPID", ...
    std::string master_version = "1.31.5-gke.1000000";
    bool one_operation_at_a_time = true;
    std::map<std::string, std::string> workload_policies;  // name → acceleratorTopology, in the cluster's region
    std::chrono::milliseconds create_latency{50};
    std::chrono::milliseconds delete_latency{50};
    std::chrono::milliseconds resize_latency{50};
    int token_expires_in_s = 3600;
    int max_concurrent_operations = 0;  // > 0: more at once answer 429 as GKE's quota of 5 does
    int port = 0;                       // 0: a free port, see url()
  };

  // The next `times` requests whose method and path match get this error reply.
  struct Fault {
    std::string method;
    std::string path_contains;
    int http_status = 500;
    std::string rpc_status = "INTERNAL";
    std::string message = "injected failure";
    int times = 1;
  };

  struct Request {
    std::string method;
    std::string path;
    std::string authorization;
    std::string metadata_flavor;
    nlohmann::json body;  // null when empty
  };

  FakeGkeServer();
  explicit FakeGkeServer(Options options);
  ~FakeGkeServer();
  FakeGkeServer(const FakeGkeServer&) = delete;
  FakeGkeServer& operator=(const FakeGkeServer&) = delete;

  void start();
  void stop();
  std::string url() const;  // serves both the container API and the metadata server

  void inject(Fault fault);
  // The operations of the next `count` creates finish DONE with error {code, message}, their pools ERROR.
  void fail_next_creates(int count, int code, const std::string& message);
  void set_create_latency(std::chrono::milliseconds latency);
  void set_max_concurrent_operations(int count);
  void set_one_operation_at_a_time(bool on);
  // An operation on the cluster that is not ours (UPGRADE_MASTER, ...): the cluster is busy meanwhile.
  std::string start_cluster_operation(const std::string& type, std::chrono::milliseconds latency);
  // As POST .../operations/NAME:cancel does; false when there is no such running operation.
  bool cancel_operation(const std::string& name);
  // The name of the latest operation on `pool`; "" when none.
  std::string operation_of(const std::string& pool) const;
  // Every token handed out so far is refused with 401 from now on.
  void revoke_tokens();

  std::vector<Request> requests() const;
  int count(const std::string& method, const std::string& path_contains) const;
  // Pool name → NodePool resource as GET returns it.
  std::map<std::string, nlohmann::json> pools();
  // Pool name → nodes it has now: initialNodeCount, then each finished setSize (GKE reports no size).
  std::map<std::string, int> pool_sizes();
  int creates_accepted() const;
  int token_requests() const;
  int max_operations_seen() const;

 private:
  struct Operation {
    nlohmann::json resource;
    std::string pool;    // "" for an operation on the cluster
    std::string type;    // operationType: CREATE_NODE_POOL, SET_NODE_POOL_SIZE, DELETE_NODE_POOL, UPGRADE_MASTER
    int node_count = 0;  // SET_NODE_POOL_SIZE's target
    std::chrono::steady_clock::time_point done_at;
    nlohmann::json error;  // null: success
  };
  struct Reply {
    int status = 200;
    nlohmann::json body;  // a JSON string is sent as plain text
  };

  void handle(web::http::http_request request);
  Reply route(const Request& request);
  Reply metadata(const Request& request);
  Reply node_pools(const Request& request, const std::string& rest);
  Reply set_size(const Request& request, const std::string& pool);
  Reply create_pool(const Request& request);
  Reply operations(const Request& request, const std::string& rest);
  void cancel(Operation& op);
  Reply resource_policies(const Request& request);
  // Why GKE would refuse this NodePool; fills `locations` from the cluster when it has none.
  std::optional<Reply> invalid_node_pool(nlohmann::json& pool) const;
  // GKE's answer while another operation runs on the cluster.
  std::optional<Reply> cluster_busy() const;
  Reply start_operation(Operation operation, std::chrono::milliseconds latency);
  std::optional<Reply> quota_exceeded() const;
  // Finishes every operation whose time has come; called with mu_ held on each request.
  void settle();
  int running_operations() const;
  static Reply error_reply(int status, const std::string& rpc_status, const std::string& message);

  Options options_;
  int port_ = 0;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> pools_;
  std::map<std::string, int> sizes_;
  std::map<std::string, Operation> operations_;
  std::vector<Fault> faults_;
  std::vector<nlohmann::json> create_failures_;
  std::vector<Request> requests_;
  std::set<std::string> tokens_;  // every token handed out stays valid until revoke_tokens()
  int next_id_ = 1;
  int creates_accepted_ = 0;
  int token_requests_ = 0;
  int max_operations_seen_ = 0;
};

}  // namespace tpustack::fakes
