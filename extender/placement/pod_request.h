#pragma once

#include <optional>
#include <string>

#include "common/topology/slice_spec.h"
#include "extender/model/slice_index.h"
#include "extender/model/tpu_pod.h"

namespace tpustack::extender {

enum class PodRole {
  kUnmanaged,    // requests no google.com/tpu: every node passes
  kSingleHost,   // fits on one host: bin-packed
  kGroupMember,  // worker i of a multi-host group: host i of the slice its group holds, or of a free one
};

// How a member's multislice unit stands (placement/multislice_unit.h decides it).
struct UnitStanding {
  bool whole = false;    // every slice held, or the unit already running: members place as lone groups do
  Reservations reserve;  // group → free slice, one for each member lacking one, that make the unit whole at once
  std::string waiting;   // why the unit's members find no node yet; empty when whole
};

// What a pod asks for, read once per request and checked against the group it belongs to.
struct PodRequest {
  TpuPod pod;
  PodRole role = PodRole::kUnmanaged;
  std::optional<topology::SliceSpec> spec;  // from the nodeSelector; none when it names no topology
  std::optional<std::string> problem;       // set when no node can ever fit: every node is unresolvable
  const GroupState* group = nullptr;        // the group as the cluster shows it; null before any pod is seen
  std::optional<UnitStanding> unit;         // for a member of a multislice unit

  // "tpu-v6e-slice 4x4 (4 hosts of 4 chips)".
  std::string wanted() const;
};

// `index` must outlive the returned request (it points into the index's groups).
PodRequest analyze_pod(TpuPod pod, const SliceIndex& index);

// "tpu-v6e-slice 4x4 (4 hosts of 4 chips)" for a spec read from labels.
std::string describe(const std::string& accelerator, const topology::SliceSpec& spec);

}  // namespace tpustack::extender
