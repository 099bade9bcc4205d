#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "extender/provisioning/group_identity.h"
#include "extender/provisioning/pool_state.h"

namespace tpustack::provisioning {

// Where a pool's owner stands, which decides when the pool may go.
enum class OwnerState {
  kActive,
  kFinished,  // Completed or Failed
  kGone,      // not found
};

// "JobSet/ns/name": the key of ClusterSnapshot::owners.
std::string owner_key(OwnerKind kind, const std::string& ns, const std::string& name);

// A JobSet or Job object's state: finished once its controller set the condition that ends it (a JobSet's
// Completed or Failed, a Job's Complete or Failed) to True. kPods owners are judged from their pods instead.
OwnerState owner_state(OwnerKind kind, const nlohmann::json& owner);

// The object a pool's resize and deletion Events are about (creation's go to the waiting pod): its owner as the
// pool's labels name it (the group's JobSet or Job, or the workload's StatefulSet, ReplicaSet or Pod), else, for
// groups of labelled pods, other controllers' pods and orphans, the namespace, where `kubectl get events` finds
// them.
nlohmann::json event_target(const PoolState& pool);

}  // namespace tpustack::provisioning
