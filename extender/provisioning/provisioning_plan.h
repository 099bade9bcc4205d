#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "extender/provisioning/cluster_facts.h"
#include "extender/provisioning/pool_spec.h"
#include "extender/provisioning/pool_state.h"

namespace tpustack::provisioning {

using Clock = std::chrono::steady_clock;

enum class OwnerState {
  kActive,
  kFinished,  // Completed or Failed
  kGone,      // not found
};

// "JobSet/ns/name": the key of ClusterSnapshot::owners.
std::string owner_key(OwnerKind kind, const std::string& ns, const std::string& name);

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
  PodFacts leader;
};

struct DeleteAction {
  std::string pool;
  std::string reason;
};

// A leader that needs a pool and does not get one in this round, and why (for its Events and logs).
struct Blocked {
  PodFacts leader;
  std::string reason;
  bool error = false;  // the pod's wish cannot be met at all, as opposed to "not now"
};

struct ProvisioningPlan {
  std::vector<CreateAction> creates;
  std::vector<DeleteAction> deletes;
  std::vector<Blocked> blocked;
  // When each pool's owner was first seen finished or gone; the caller keeps it for the next round.
  std::map<std::string, Clock::time_point> finished_since;
};

// Why `pod` does not trigger provisioning, or "" when it does: pending, PodScheduled=False reason
// Unschedulable, requests google.com/tpu, selects accelerator and topology, leads its group, not opted
// out, not being deleted.
std::string trigger_blocker(const PodFacts& pod);

// Pools are ours when they carry tpustack.dev/managed-by=tpu-extender; others are never deleted.
bool managed(const PoolState& pool);

// One reconcile: which pools to create for waiting leaders and which of ours to delete (owner done for
// longer than the grace period, ERROR state, orphans, or a spec that no longer matches its idle group).
// Dedup comes from `pools` and `busy_pools` alone, so a restarted controller decides the same.
ProvisioningPlan plan_provisioning(const ClusterSnapshot& snapshot, const PlanSettings& settings, Clock::time_point now,
                                   const std::map<std::string, Clock::time_point>& finished_since);

}  // namespace tpustack::provisioning
