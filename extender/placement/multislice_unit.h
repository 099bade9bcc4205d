#pragma once

#include <string>
#include <vector>

#include "extender/model/slice_index.h"
#include "extender/placement/pod_request.h"

// Multislice all or nothing: the N child Jobs of a JobSet replicated job (a unit, one slice per child Job) start
// together or not at all, since JAX forms its mesh over every slice. A unit's members take no node until each
// holds a slice; the first member filtered reserves a free slice for every member lacking one, all at once, or
// none. Pure.
namespace tpustack::extender {

// A unit's groups as the cluster shows them.
struct UnitMembers {
  std::vector<const GroupState*> by_slice;  // null where no pod of that child Job is seen yet

  int seen() const;
  int held() const;      // members holding a slice (bound, reserved, or their own pool)
  bool running() const;  // a member has a pod bound: the unit was placed whole, members go on as lone groups
};
UnitMembers unit_members(const UnitMembership& unit, const SliceIndex& index);

// Whether the unit of `request` (a member, as analyze_pod reads it) is whole; if not, the free slices that make
// it whole, or why it waits ("multislice JobSet default/train (2 slices of tpu-v6e-slice 4x4): 1 of 2 slices
// free; waiting for all").
UnitStanding judge_unit(const PodRequest& request, const SliceIndex& index);

// Whether `group` is a member of a unit that lacks a slice while none of it runs (a member's pods went, or its
// reservation was released): the reservations the others hold are hoarding.
bool unit_broken(const GroupState& group, const SliceIndex& index);

// The other members of `group`'s unit holding a slice by reservation while none of it runs: their reservations go
// when `group`'s does. Empty for a group on its own.
std::vector<std::string> released_with(const GroupState& group, const SliceIndex& index);

}  // namespace tpustack::extender
