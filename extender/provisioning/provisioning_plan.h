#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "extender/provisioning/cluster_facts.h"
#include "extender/provisioning/pool_owner.h"
#include "extender/provisioning/pool_spec.h"
#include "extender/provisioning/pool_state.h"

namespace tpustack::provisioning {

using Clock = std::chrono::steady_clock;

// Everything one reconcile decides from, gathered by the controller.
struct ClusterSnapshot {
  std::vector<PodFacts> pods;
  std::vector<NodeFacts> nodes;
  std::vector<PoolState> pools;      // every pool of the cluster, ours or not, in-flight creates included
  std::set<std::string> busy_pools;  // pools with one of our operations running
  // States of JobSet and Job owners named by our pools or by waiting leaders (owners of kind Pods are
  // judged from `pods`); an owner missing here counts as active, so a failed lookup never deletes a pool.
  std::map<std::string, OwnerState> owners;
  std::map<std::string, Clock::time_point> retry_not_before;  // by pool name, after failures
  // Workload pools whose nodes this process asked for (create or resize) and has not seen registered
  // yet: GKE reports no pool size, so their Node objects are the size once they match.
  std::map<std::string, int> asked_nodes;
};

struct PlanSettings {
  bool cleanup_only = false;
  std::chrono::nanoseconds deletion_grace = std::chrono::seconds(30);
  int max_pools = 0;  // pools of ours at once; 0: no cap
  int max_chips = 0;  // chips over pools of ours; 0: no cap
  PoolDefaults defaults;
};

struct CreateAction {
  PoolSpec spec;
  PodFacts pod;  // the waiting pod it is for (a group's leader, a workload's first): its Events
  // Actions sharing a non-empty batch start in the same round (a multislice unit's pools); "" for one alone.
  std::string batch = {};
};

// Sets a workload's pool to `to` nodes (GKE setSize).
struct ResizeAction {
  std::string pool;
  int from = 0;
  int to = 0;
  std::string reason;
};

struct DeleteAction {
  std::string pool;
  std::string reason;
  std::string batch = {};  // as CreateAction::batch: the pools of one ended JobSet go together
};

// A waiting pod that does not get capacity in this round, and why (for its Events and logs).
struct Blocked {
  PodFacts pod;
  std::string reason;
  bool error = false;  // the pod's wish cannot be met at all, as opposed to "not now"
};

struct ProvisioningPlan {
  std::vector<CreateAction> creates;
  std::vector<ResizeAction> resizes;
  std::vector<DeleteAction> deletes;
  std::vector<Blocked> blocked;
  // When each pool was first seen with nodes nobody needs (its group's owner finished or gone, its
  // workload down to fewer pods than nodes); the caller keeps it for the next round.
  std::map<std::string, Clock::time_point> surplus_since;
  // snapshot.asked_nodes less the pools whose nodes have registered or that are gone.
  std::map<std::string, int> asked_nodes;
};

// Why `pod` asks for no capacity, or nullopt when it does: it is pending, marked PodScheduled=False
// reason Unschedulable, requests google.com/tpu, selects accelerator and topology, is not opted out or
// being deleted, and leads its group when it needs a multi-host slice.
std::optional<std::string_view> trigger_blocker(const PodFacts& pod);

// Whether a change to `pod` can alter a decision, so that the pod informer wakes the loop for it: a TPU pod that
// asks for capacity (see trigger_blocker) or that has ended (its group's pool may go). Others wait for the resync.
bool wakes_provisioner(const PodFacts& pod);

// Pools are ours when they carry tpustack.dev/managed-by=tpu-extender; others are never deleted.
bool managed(const PoolState& pool);
// Ours and holding single-host nodes for a workload (kPoolKindLabel).
bool workload_pool(const PoolState& pool);

// One reconcile. Group slices: created for waiting leaders (for a multislice unit, one pool per slice, all in
// one round, once the leaders of all its slices wait, unless enough free slices stand ready); deleted once the
// owner is done for longer than the grace period (a unit's pools together), or replaced when idle and of another
// shape. Workload pools: one per workload and shape, sized to the hosts its pending pods and the pods bound to it
// need (ceil(chips / chips per host)), grown at once when a pod waits, shrunk (never below the nodes in use) or
// deleted after the grace period. Pools in ERROR state and orphans are deleted. Dedup comes from `pools`,
// `busy_pools` and `asked_nodes` alone, so a restarted controller decides the same.
ProvisioningPlan plan_provisioning(const ClusterSnapshot& snapshot, const PlanSettings& settings, Clock::time_point now,
                                   const std::map<std::string, Clock::time_point>& surplus_since);

}  // namespace tpustack::provisioning
