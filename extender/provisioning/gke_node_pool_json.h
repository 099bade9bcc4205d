#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "extender/provisioning/pool_spec.h"
#include "extender/provisioning/pool_state.h"

namespace tpustack::provisioning {

inline constexpr const char* kCloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

// What the cluster and the GKE settings decide for every pool (see fit_cluster()).
struct GkePoolOptions {
  std::string zone;                                            // the pool's one zone (`locations`)
  bool auto_upgrade_off = true;                                // false on a release channel: `autoUpgrade` is left out
  std::vector<std::string> oauth_scopes{kCloudPlatformScope};  // without any, nodes of the default
                                                               // service account reach no Google API
};

// The body of POST .../clusters/C/nodePools (container v1 REST, camelCase, int64 fields as strings),
// in the shape of shared/reference/tpu-on-kubernetes.md §I.4. GKE taints TPU nodes with
// google.com/tpu itself, so only the other taints are sent, and it sets the zone label itself.
nlohmann::json node_pool_create_body(const PoolSpec& spec, const PoolDefaults& defaults, const GkePoolOptions& options);

// A NodePool resource as GET/list return it. GKE reports no current size, so node_count is the
// initialNodeCount (per zone) even after a setSize; chips count every zone of the pool.
PoolState parse_node_pool(const nlohmann::json& node_pool);

}  // namespace tpustack::provisioning
