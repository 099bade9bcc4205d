#pragma once

#include <nlohmann/json.hpp>

#include "extender/provisioning/pool_spec.h"
#include "extender/provisioning/pool_state.h"

namespace tpustack::provisioning {

// The body of POST .../clusters/C/nodePools (container v1 REST, camelCase, int64 fields as strings),
// in the shape of shared/reference/tpu-on-kubernetes.md §I.4. GKE taints TPU nodes with
// google.com/tpu itself, so only the other taints are sent.
nlohmann::json node_pool_create_body(const PoolSpec& spec, const PoolDefaults& defaults);

// A NodePool resource as GET/list return it. GKE reports no current size, so node_count is the
// initialNodeCount even after a setSize.
PoolState parse_node_pool(const nlohmann::json& node_pool);

}  // namespace tpustack::provisioning
