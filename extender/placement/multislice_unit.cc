#include "extender/placement/multislice_unit.h"

#include <algorithm>

#include "extender/placement/node_judge.h"

namespace tpustack::extender {

int UnitMembers::seen() const {
  return static_cast<int>(std::count_if(by_slice.begin(), by_slice.end(), [](auto* g) { return g != nullptr; }));
}

int UnitMembers::held() const {
  return static_cast<int>(
      std::count_if(by_slice.begin(), by_slice.end(), [](auto* g) { return g != nullptr && g->slice >= 0; }));
}

bool UnitMembers::running() const {
  return std::any_of(by_slice.begin(), by_slice.end(), [](auto* g) { return g != nullptr && g->bound_pods > 0; });
}

UnitMembers unit_members(const UnitMembership& unit, const SliceIndex& index) {
  UnitMembers members;
  members.by_slice.assign(static_cast<std::size_t>(unit.slices), nullptr);
  for (const auto& [key, group] : index.groups()) {
    if (!group.unit || group.unit->key != unit.key) continue;
    const int slice = group.unit->slice;
    if (slice >= 0 && slice < unit.slices && members.by_slice[slice] == nullptr) members.by_slice[slice] = &group;
  }
  return members;
}

UnitStanding judge_unit(const PodRequest& request, const SliceIndex& index) {
  const UnitMembership& unit = *request.pod.group->unit;
  const UnitMembers members = unit_members(unit, index);
  UnitStanding standing;
  if (members.running() || members.held() == unit.slices) {
    standing.whole = true;
    return standing;
  }
  const std::string of_n = " of " + std::to_string(unit.slices) + " slices";
  const std::string head = unit.name + " (" + std::to_string(unit.slices) + " slices of " + request.pod.accelerator +
                           " " + request.pod.topology + "): ";
  if (members.seen() < unit.slices) {
    // Reservations are per child Job, so every child Job must show a pod before the unit can reserve.
    standing.waiting = head + "pods of " + std::to_string(members.seen()) + of_n + " seen; waiting for all";
    return standing;
  }
  NodeJudge judge(request, index);
  Reservations reserve;
  int next = 0;
  const int slices = static_cast<int>(index.slices().size());
  for (const GroupState* member : members.by_slice) {
    if (member->slice >= 0) continue;
    while (next < slices && judge.judge_free_slice(next).fit != Fit::kFits) ++next;
    if (next == slices) break;
    reserve.emplace(member->key, index.slices()[next++].name);
  }
  const int free = members.held() + static_cast<int>(reserve.size());
  if (free < unit.slices) {
    standing.waiting = head + std::to_string(free) + of_n + " free; waiting for all";  // no partial hoarding
    return standing;
  }
  standing.reserve = std::move(reserve);
  standing.waiting = head + "all " + std::to_string(unit.slices) + " slices free, not reserved yet";
  return standing;
}

bool unit_broken(const GroupState& group, const SliceIndex& index) {
  if (!group.unit) return false;
  const UnitMembers members = unit_members(*group.unit, index);
  return !members.running() && members.held() < group.unit->slices;
}

std::vector<std::string> released_with(const GroupState& group, const SliceIndex& index) {
  std::vector<std::string> partners;
  if (!group.unit) return partners;
  const UnitMembers members = unit_members(*group.unit, index);
  if (members.running()) return partners;
  for (const GroupState* member : members.by_slice) {
    if (member != nullptr && member != &group && member->reserved) partners.push_back(member->key);
  }
  return partners;
}

}  // namespace tpustack::extender
