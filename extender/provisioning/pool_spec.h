#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/topology/slice_spec.h"
#include "extender/provisioning/cluster_facts.h"
#include "extender/provisioning/group_identity.h"

namespace tpustack::provisioning {

// Node labels that mark a pool as ours and say whom it serves (shared/architecture.md contracts).
inline constexpr const char* kManagedByLabel = "tpustack.dev/managed-by";
inline constexpr const char* kManagedByValue = "tpu-extender";
using extender::names::kGroupLabel;
inline constexpr const char* kGroupNamespaceLabel = "tpustack.dev/group-namespace";
inline constexpr const char* kSpecHashLabel = "tpustack.dev/pool-spec-hash";
// Which object's end ends the group (to_string(OwnerKind)), and its name.
inline constexpr const char* kOwnerKindLabel = "tpustack.dev/owner-kind";
inline constexpr const char* kOwnerNameLabel = "tpustack.dev/owner-name";

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // Kubernetes spelling: "NoSchedule"
  bool operator==(const Taint&) const = default;
};

// A pod's wish that cannot become a node pool; the message is for the pod's owner.
class PoolSpecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Cluster-wide choices for the pools we create (issue 5 flags and YAML keys).
struct PoolDefaults {
  std::string service_account;              // "" : the cluster's default node service account
  std::vector<std::string> node_locations;  // zones; empty: the cluster's default
  int max_pods_per_node = 15;
  bool secure_boot = true;
  std::string workload_policy_prefix = "tpustack-";  // tpu7x multi-host: policy "<prefix><topology>"
};

// Everything that defines one node pool, independent of who creates it.
struct PoolSpec {
  std::string name;
  topology::SliceSpec slice;
  bool spot = false;
  std::string reservation;                    // "" or "name" or "projects/P/reservations/name"
  std::string workload_policy;                // tpu7x multi-host only
  std::map<std::string, std::string> labels;  // node labels: ownership, selectors copied from the pod
  std::vector<Taint> taints;                  // google.com/tpu first, then spot's
  std::string hash;                           // also in labels[kSpecHashLabel]
  GroupIdentity group;

  int node_count() const { return slice.hosts(); }
  // COMPACT placement with a TPU topology: multi-host slices of every generation but tpu7x.
  bool compact_placement() const { return slice.multi_host() && workload_policy.empty(); }
};

// "tpu-<group, sanitized and cut>-<8 hex of a hash of namespace, owner kind and group>": at most 40
// characters, GKE's pool-name alphabet, the same for a restarted JobSet (its Jobs keep their names).
std::string pool_name(const GroupIdentity& group);

// The pool a pending leader asks for. Throws PoolSpecError when the pod has no group, no accelerator
// or topology selector, no TPU request, or a shape GKE cannot build.
PoolSpec build_pool_spec(const PodFacts& leader, const PoolDefaults& defaults);

// FNV-1a 32 over what makes two pools interchangeable, as 8 hex digits.
std::string spec_hash(const PoolSpec& spec);

}  // namespace tpustack::provisioning
