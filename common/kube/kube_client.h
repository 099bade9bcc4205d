#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kube/cluster_config.h"
#include "common/kube/event.h"
#include "common/kube/kube_error.h"
#include "common/kube/resource.h"
#include "common/kube/watch_event.h"

namespace tpustack::kube {

struct ClientOptions {
  double qps = 50;  // client-go's defaults are 5/10; controllers here list and bind in bursts
  int burst = 100;
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds watch_idle_timeout{600};  // a watch with no byte for this long is treated as dropped
  std::string user_agent = "tpustack";
  std::string component = "tpustack";  // the source of Events this client records
};

struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // of the list: watch from here to see every later change
  std::string continue_token;    // non-empty when more pages follow
};

enum class PatchType {
  kMerge,  // application/merge-patch+json (RFC 7386)
  kJson,   // application/json-patch+json (RFC 6902)
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  int grace_period_seconds = -1;   // -1: the object's default
};

// A Kubernetes REST client for any resource. Every call is synchronous, thread-safe, passes the
// client-side QPS limit, and fails with an api_error() (kube_error.h): a non-2xx reply, a reply that is not JSON,
// or no reply at all (status 0).
class KubeClient {
 public:
  explicit KubeClient(ClusterConfig config, ClientOptions options = {});
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  const ClusterConfig& config() const;

  Result<nlohmann::json> get(const Resource& resource, std::string_view ns, std::string_view name,
                             std::string_view subresource = "");
  // One page; see ObjectList::continue_token.
  Result<ObjectList> list(const Resource& resource, std::string_view ns, const ListOptions& options = {});
  // Every page, following continue tokens; the resource version is the first page's.
  Result<ObjectList> list_all(const Resource& resource, std::string_view ns, ListOptions options = {});
  Result<nlohmann::json> create(const Resource& resource, std::string_view ns, const nlohmann::json& object);
  // PUT: fails with 409 Conflict when metadata.resourceVersion is stale.
  Result<nlohmann::json> replace(const Resource& resource, std::string_view ns, std::string_view name,
                                 const nlohmann::json& object, std::string_view subresource = "");
  Result<nlohmann::json> patch(const Resource& resource, std::string_view ns, std::string_view name,
                               const nlohmann::json& patch, PatchType type, std::string_view subresource = "");
  Result<nlohmann::json> remove(const Resource& resource, std::string_view ns, std::string_view name,
                                const DeleteOptions& options = {});

  // POST pods/NAME/binding; 409 Conflict when the pod is already bound.
  Result<void> bind_pod(std::string_view ns, std::string_view pod, std::string_view node);
  // Records a core/v1 Event about `involved`; returns the created Event.
  Result<nlohmann::json> create_event(const nlohmann::json& involved, EventType type, std::string_view reason,
                                      std::string_view message);

  // Streams one watch: calls on_event for each event until the server ends the stream (returns),
  // on_event returns false (returns), `stop` is requested (returns promptly), or the stream breaks
  // (an error with status 0). A refused watch is an error with its status, e.g. 410 Gone;
  // ERROR events are passed to on_event like any other.
  Result<void> watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                     const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop = {});

 private:
  struct Transport;
  std::unique_ptr<Transport> transport_;
};

}  // namespace tpustack::kube
