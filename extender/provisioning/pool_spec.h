#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result/result.h"
#include "common/topology/slice_spec.h"
#include "extender/provisioning/cluster_facts.h"
#include "extender/provisioning/group_identity.h"

namespace tpustack::provisioning {

// Node labels that mark a pool as ours and say whom it serves (shared/architecture.md contracts).
inline constexpr const char* kManagedByLabel = "tpustack.dev/managed-by";
inline constexpr const char* kManagedByValue = "tpu-extender";
using extender::names::kGroupLabel;
using extender::names::kGroupNamespaceLabel;
inline constexpr const char* kSpecHashLabel = "tpustack.dev/pool-spec-hash";
// Which object's end ends the group (to_string(OwnerKind)), and its name; for a workload's pool, the
// workload's kind and name.
inline constexpr const char* kOwnerKindLabel = "tpustack.dev/owner-kind";
inline constexpr const char* kOwnerNameLabel = "tpustack.dev/owner-name";
// kWorkloadPoolKind on the pools of single-host nodes that a workload's pods share, sized by those pods.
// Pools without it hold one group's slice (the only kind there was before), so their hashes stay as they were.
inline constexpr const char* kPoolKindLabel = "tpustack.dev/pool-kind";
inline constexpr const char* kWorkloadPoolKind = "workload";

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // Kubernetes spelling: "NoSchedule"
  bool operator==(const Taint&) const = default;
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
  // A group's whole slice, or for a workload's pool the single-host slice each of its nodes is.
  topology::SliceSpec slice;
  int node_count = 1;  // the slice's hosts; for a workload's pool, the hosts its pods need (set by the plan)
  bool for_workload = false;
  bool spot = false;
  std::string reservation;                    // "" or "name" or "projects/P/reservations/name"
  std::string workload_policy;                // tpu7x multi-host only
  std::map<std::string, std::string> labels;  // node labels: ownership, selectors copied from the pod
  std::vector<Taint> taints;                  // google.com/tpu first, then spot's
  std::string hash;                           // also in labels[kSpecHashLabel]

  int chips() const { return node_count * slice.chips_per_host(); }
  // COMPACT placement with a TPU topology: multi-host slices of every generation but tpu7x.
  bool compact_placement() const { return slice.multi_host() && workload_policy.empty(); }
};

// "tpu-<group, sanitized and cut>-<8 hex of a hash of namespace, owner kind and group>": at most 40
// characters, GKE's pool-name alphabet, the same for a restarted JobSet (its Jobs keep their names).
std::string pool_name(const GroupIdentity& group);
// "tpu-<workload name, sanitized and cut>-<8 hex of namespace, kind, name and spec hash>": one pool per
// workload and shape, so pods of two revisions that ask for different nodes never wait for each other.
std::string pool_name(const Workload& workload, const std::string& spec_hash);

// The slice a pod asks for. With a group, chips per host come from its request, as GKE picks the
// machine type. A pod whose request makes a single host, or that is in no group, runs on one host
// holding the whole topology, shared with other pods when it asks for fewer chips (4 chips of a v6e 2x4:
// half a ct6e-standard-8t), as the extender places it. A pod's wish that cannot become a node pool is an Error
// for the pod's owner: no accelerator or topology is selected, no chips are requested, the shape cannot be
// built, or a multi-host topology is asked for outside a group.
Result<topology::SliceSpec> requested_slice(const PodFacts& pod);

// The pool a waiting pod asks for: its group's slice when requested_slice() spans several hosts, else
// single-host nodes for its workload (node_count 1: the plan sizes it by all the workload's pods).
// Its Errors are requested_slice()'s.
Result<PoolSpec> build_pool_spec(const PodFacts& pod, const PoolDefaults& defaults);

// FNV-1a 32 over what makes two pools interchangeable, as 8 hex digits.
std::string spec_hash(const PoolSpec& spec);

}  // namespace tpustack::provisioning
