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

// GKE's container v1 node-pool API and the GCE metadata server, over a real socket on 127.0.0.1:
//   POST/GET   /v1/projects/P/locations/L/clusters/C/nodePools
//   GET/DELETE /v1/projects/P/locations/L/clusters/C/nodePools/NAME
//   POST       /v1/projects/P/locations/L/clusters/C/nodePools/NAME:setSize  {"nodeCount": N}
//   GET        /v1/projects/P/locations/L/operations/OP
//   GET        /computeMetadata/v1/instance/service-accounts/default/token (and project-id,
//              instance/attributes/cluster-name, cluster-location), Metadata-Flavor: Google required.
// Operations finish after a latency and may end with an `error`; requests may be refused with
// canned errors; the API wants the bearer token the metadata endpoint handed out. Thread-safe.
class FakeGkeServer {
 public:
  struct Options {
    std::string project = "proj";
    std::string location = "us-east5";
    std::string cluster = "tpu-cluster";
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
    std::string pool;
    std::string type;    // operationType: CREATE_NODE_POOL, SET_NODE_POOL_SIZE, DELETE_NODE_POOL
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
  std::set<std::string> tokens_;  // every token handed out stays valid
  int next_id_ = 1;
  int creates_accepted_ = 0;
  int token_requests_ = 0;
  int max_operations_seen_ = 0;
};

}  // namespace tpustack::fakes
