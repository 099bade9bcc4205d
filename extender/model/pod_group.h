#pragma once

#include <map>
#include <optional>
#include <string>

namespace tpustack::extender {

using StringMap = std::map<std::string, std::string, std::less<>>;

// A group's place in a multislice unit: the N child Jobs of one JobSet replicated job, one slice each, which
// are placed all or none.
struct UnitMembership {
  std::string key;   // "<ns>/<jobset>/<replicated job>"
  std::string name;  // for people: "multislice JobSet default/train"
  int slices = 0;    // N (jobset.sigs.k8s.io/replicatedjob-replicas)
  int slice = -1;    // this group's slice, 0..N-1 (jobset.sigs.k8s.io/job-index)

  bool operator==(const UnitMembership&) const = default;
};

// A pod's membership in a gang: the pods that together use one multi-host slice, one per host.
// Which labels made a group: they also say what owns it.
enum class GroupSource {
  kGroupLabel,  // tpustack.dev/group: the labelled pods themselves
  kJobSetJob,   // a JobSet child Job: the JobSet
  kIndexedJob,  // an Indexed Job: the Job
};

struct GroupMember {
  GroupSource source = GroupSource::kGroupLabel;
  std::string key;                     // unique across the cluster: "<ns>/<kind>:<name>"
  std::string name;                    // for people: "JobSet job default/train-slice-0"
  int index = -1;                      // worker index; 0 is the leader; -1 when the pod carries none
  int declared_size = 0;               // tpustack.dev/group-size; 0 when not given
  std::optional<std::string> problem;  // why the labels cannot be used as they are
  // "<ns>/<name>" as the provisioner labels the nodes of the pool it creates for this group
  // (tpustack.dev/group-namespace, tpustack.dev/group): the child Job or Job name, or our group label.
  std::string pool_owner;
  // Set for a child Job of a JobSet replicated job with replicas N > 1 (multislice).
  std::optional<UnitMembership> unit;

  bool leader() const { return index == 0; }
};

// Recognises, in this order: our labels tpustack.dev/group (+ group-size), a JobSet child Job
// (jobset.sigs.k8s.io/job-key; with its multislice unit when its replicated job has N > 1 replicas), an Indexed Job
// (completion index + job name). The worker index comes from batch.kubernetes.io/job-completion-index (label or
// annotation) or a StatefulSet's apps.kubernetes.io/pod-index label.
std::optional<GroupMember> group_member(const std::string& ns, const StringMap& labels, const StringMap& annotations);

}  // namespace tpustack::extender
