#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "extender/model/pod_group.h"

namespace tpustack::provisioning {

// What owns a group of pods, and so decides when its node pool may go.
enum class OwnerKind {
  kJobSet,  // a JobSet child Job: the pool follows the JobSet, which survives restarts of its Jobs
  kJob,     // an Indexed Job
  kPods,    // pods carrying tpustack.dev/group: the pool lives while any of them is not terminated
};

std::string to_string(OwnerKind kind);
// Inverse of to_string; nullopt for anything else.
std::optional<OwnerKind> parse_owner_kind(const std::string& text);

// The group a pod belongs to, as the provisioner needs it: the extender's group (one definition of
// "which pods form a gang") plus the object whose end ends it.
struct GroupIdentity {
  OwnerKind owner_kind = OwnerKind::kPods;
  std::string ns;
  std::string group;  // child Job name, Job name, or the tpustack.dev/group value
  std::string owner;  // the object whose end ends the group: JobSet name, Job name, or the group value
  int index = -1;     // this pod's worker index; -1 when the pod does not say
  // Its multislice unit (a JobSet replicated job of N > 1 child Jobs): the unit's N pools are created together.
  std::optional<extender::UnitMembership> unit = {};

  bool leader() const { return index == 0; }
  bool operator==(const GroupIdentity&) const = default;
};

// The group as extender::group_member() recognises it (tpustack.dev/group, JobSet child Job, Indexed
// Job), with its owner: the JobSet, the Job, or the labelled pods themselves. nullopt for no group.
std::optional<GroupIdentity> group_of(const nlohmann::json& pod);

// The object that made a pod, as its controller ownerReference names it (StatefulSet, ReplicaSet, Job, or any
// other controller), or the pod itself (kind "Pod") when nothing did. A Deployment's pods stay with their
// ReplicaSet: each ReplicaSet has one pod template, so one shape, and a rollout's new ReplicaSet gets
// capacity of its own while the old one's shrinks away.
struct Workload {
  std::string kind;
  std::string ns;
  std::string name;
  bool operator==(const Workload&) const = default;
};

Workload workload_of(const nlohmann::json& pod);

}  // namespace tpustack::provisioning
