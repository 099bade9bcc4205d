#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tpustack::kube {

// A REST resource of the API: core resources live under /api/v1, all others under /apis/GROUP/VERSION.
struct Resource {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "pods"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

namespace resources {
inline const Resource kPods{"", "v1", "pods", true};
inline const Resource kNodes{"", "v1", "nodes", false};
inline const Resource kEvents{"", "v1", "events", true};
inline const Resource kNamespaces{"", "v1", "namespaces", false};
inline const Resource kConfigMaps{"", "v1", "configmaps", true};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
inline const Resource kJobs{"batch", "v1", "jobs", true};
inline const Resource kJobSets{"jobset.x-k8s.io", "v1alpha2", "jobsets", true};
}  // namespace resources

// Percent-encodes everything but RFC 3986 unreserved characters, for path segments and query values.
std::string url_encode(std::string_view text);

// "/api/v1/namespaces/NS/pods", "/api/v1/nodes"; an empty namespace of a namespaced resource means all
// namespaces (list and watch only).
std::string collection_path(const Resource& resource, std::string_view ns);

// collection_path + "/NAME" [+ "/SUBRESOURCE"].
std::string object_path(const Resource& resource, std::string_view ns, std::string_view name,
                        std::string_view subresource = "");

struct ListOptions {
  std::string label_selector;  // "app=web,tier in (a,b),!canary"
  std::string field_selector;  // "spec.nodeName=node-1"
  int limit = 0;               // 0: no paging
  std::string continue_token;
  std::string resource_version;  // "" : most recent, served from etcd
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // events after this version; "" or "0": current objects first, as ADDED
  bool allow_bookmarks = true;
  int timeout_seconds = 0;  // 0: server default; the server ends the stream cleanly after it
};

// "?labelSelector=...&limit=..." ("" when nothing is set).
std::string list_query(const ListOptions& options);
std::string watch_query(const WatchOptions& options);

}  // namespace tpustack::kube
