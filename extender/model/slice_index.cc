#include "extender/model/slice_index.h"

#include <algorithm>

namespace tpustack::extender {

namespace {

SliceHost host_of(const TpuNode& node) {
  return SliceHost{node.name, node.allocatable_chips, 0, node.ready, node.unschedulable, node.taints};
}

}  // namespace

std::vector<std::string> assign_workers(const Slice& slice, const std::map<int, std::string>& occupied) {
  std::vector<std::string> workers(slice.hosts.size());
  std::vector<bool> taken(slice.hosts.size(), false);
  for (const auto& [worker, node] : occupied) {
    if (worker < 0 || worker >= static_cast<int>(workers.size())) continue;
    for (std::size_t h = 0; h < slice.hosts.size(); ++h) {
      if (slice.hosts[h].node == node && !taken[h]) {
        workers[worker] = node;
        taken[h] = true;
      }
    }
  }
  std::size_t next = 0;
  for (auto& worker : workers) {
    if (!worker.empty()) continue;
    while (next < taken.size() && taken[next]) ++next;
    if (next < taken.size()) {
      worker = slice.hosts[next].node;
      taken[next] = true;
    }
  }
  return workers;
}

SliceIndex::SliceIndex(const std::map<std::string, TpuNode>& nodes, const std::map<std::string, TpuPod>& pods,
                       const Reservations& reservations) {
  std::map<std::string, std::vector<const TpuNode*>> pools;
  for (const auto& [name, node] : nodes) {
    if (node.is_tpu()) pools[node.pool].push_back(&node);
  }
  for (const auto& [pool, members] : pools) add_pool(members);
  index_locations();

  for (const auto& [key, pod] : pods) {
    if (!pod.active() || !pod.bound() || pod.chips == 0) continue;
    auto where = locate(pod.node_name);
    if (where.slice < 0) continue;
    auto& slice = slices_[where.slice];
    slice.hosts[where.host].used += pod.chips;
    slice.used_chips += pod.chips;
  }
  reserve_for_groups(pods, reservations);
}

void SliceIndex::add_pool(const std::vector<const TpuNode*>& nodes) {
  const TpuNode& first = *nodes.front();
  Slice shape;
  shape.accelerator = first.accelerator;
  shape.topology = first.topology;
  int chips_per_host = 0;
  for (const auto* node : nodes) chips_per_host = std::max(chips_per_host, node->allocatable_chips);
  if (first.topology.empty()) {
    shape.shape_problem = "node has no " + std::string("cloud.google.com/gke-tpu-topology") + " label";
  } else if (chips_per_host == 0) {
    shape.shape_problem = "no google.com/tpu allocatable yet (device plugin not registered?)";
  } else {
    auto spec = topology::SliceSpec::make(first.accelerator, first.topology, chips_per_host);
    if (spec) {
      shape.spec = std::move(*spec);
    } else {
      shape.shape_problem = spec.error().message;
    }
  }

  auto add = [&](Slice slice, std::vector<const TpuNode*> members) {
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->name < b->name; });
    int index = static_cast<int>(slices_.size());
    slice.shape_id = shape_id(slice);
    slice.created_for = members.front()->created_for;
    slice_by_name_.emplace(slice.name, index);
    if (slice.shape_id == static_cast<int>(shape_examples_.size())) shape_examples_.push_back(index);
    for (const auto* node : members) {
      slice.hosts.push_back(host_of(*node));
    }
    slices_.push_back(std::move(slice));
  };
  if (shape.multi_host()) {
    shape.name = first.pool;
    add(std::move(shape), nodes);
    return;
  }
  // A single-host pool holds many independent slices, one per node.
  for (const auto* node : nodes) {
    Slice slice = shape;
    slice.name = node->name;
    add(std::move(slice), {node});
  }
}

void SliceIndex::reserve_for_groups(const std::map<std::string, TpuPod>& pods, const Reservations& reservations) {
  std::map<std::string, std::map<int, std::string>> occupied;
  std::map<std::string, int> foreign_chips;  // per slice name: chips of bound pods outside any group
  for (const auto& [key, pod] : pods) {
    if (!pod.active() || pod.chips == 0) continue;
    if (!pod.group) {
      if (auto where = pod.bound() ? locate(pod.node_name) : Location{}; where.slice >= 0) {
        foreign_chips[slices_[where.slice].name] += pod.chips;
      }
      continue;
    }
    auto& group = groups_[pod.group->key];
    group.key = pod.group->key;
    group.name = pod.group->name;
    group.pool_owner = pod.group->pool_owner;
    group.unit = pod.group->unit;
    group.pods.push_back(key);
    ++group.active_pods;
    if (pod.group->leader()) group.leader = pod.key();
    if (pod.placement && !pod.placement->worker_hostnames.empty()) {
      group.worker_hostnames = pod.placement->worker_hostnames;
    }
    if (!pod.bound()) continue;
    ++group.bound_pods;
    auto where = locate(pod.node_name);
    if (where.slice < 0) continue;
    auto& slice = slices_[where.slice];
    if (!slice.multi_host()) continue;
    if (group.slice < 0) group.slice = where.slice;
    if (slice.holder.empty()) {
      slice.holder = group.key;
      slice.holder_name = group.name;
    }
    int worker = pod.placement && pod.placement->worker_id >= 0 ? pod.placement->worker_id : pod.group->index;
    occupied[group.key].emplace(worker, pod.node_name);
  }
  // A reservation whose group has no pod here (another replica made it before this one's informer showed the
  // pods) holds its slice all the same.
  for (const auto& [key, slice_name] : reservations) {
    const int s = slice_named(slice_name);
    if (groups_.contains(key) || s < 0 || !slices_[s].holder.empty()) continue;
    slices_[s].holder = key;
    slices_[s].holder_name = key;
  }
  for (auto& [key, group] : groups_) {
    if (group.slice < 0) hold_reserved(group, reservations, foreign_chips);
    if (group.slice >= 0) group.worker_nodes = assign_workers(slices_[group.slice], occupied[key]);
  }
}

void SliceIndex::hold_reserved(GroupState& group, const Reservations& reservations,
                               const std::map<std::string, int>& foreign_chips) {
  int chosen = -1;
  auto reserved = reservations.find(group.key);
  if (reserved != reservations.end()) {
    chosen = slice_named(reserved->second);
    if (chosen < 0) {
      group.lost_reservation = "slice " + reserved->second + " is gone";
      return;
    }
  } else {
    // A pool the provisioner created for this group is its own before any member is seen, so that
    // another group of the same shape cannot take it first.
    for (int s = 0; s < static_cast<int>(slices_.size()) && !group.pool_owner.empty(); ++s) {
      if (slices_[s].created_for == group.pool_owner && slices_[s].multi_host()) chosen = s;
    }
    if (chosen < 0) return;
  }
  Slice& slice = slices_[chosen];
  std::string lost;
  if (!slice.holder.empty() && slice.holder != group.key) {
    lost = "slice " + slice.name + " is held by " + slice.holder_name;
  } else if (auto taken = foreign_chips.find(slice.name); taken != foreign_chips.end()) {
    lost =
        "slice " + slice.name + " has " + std::to_string(taken->second) + " chips taken by pods outside " + group.name;
  }
  if (!lost.empty()) {
    if (reserved != reservations.end()) group.lost_reservation = std::move(lost);
    return;
  }
  group.slice = chosen;
  group.reserved = true;
  slice.holder = group.key;
  slice.holder_name = group.name;
}

int SliceIndex::shape_id(const Slice& slice) {
  for (std::size_t id = 0; id < shape_examples_.size(); ++id) {
    const Slice& other = slices_[shape_examples_[id]];
    if (other.accelerator == slice.accelerator && other.topology == slice.topology && other.spec == slice.spec) {
      return static_cast<int>(id);
    }
  }
  return static_cast<int>(shape_examples_.size());
}

void SliceIndex::index_locations() {
  std::size_t hosts = 0;
  for (const auto& slice : slices_) hosts += slice.hosts.size();
  std::size_t size = 2;  // a power of two at least twice the hosts, so that probe runs stay short
  while (size < 2 * hosts) size *= 2;
  location_slots_.assign(size, {});
  for (int s = 0; s < static_cast<int>(slices_.size()); ++s) {
    const auto& slice = slices_[s];
    for (int h = 0; h < static_cast<int>(slice.hosts.size()); ++h) {
      const std::string& name = slice.hosts[h].node;
      location_slots_[location_slot(name)] = {static_cast<std::uint32_t>(location_names_.size()),
                                              static_cast<std::uint32_t>(name.size()),
                                              {s, h, slice.shape_id}};
      location_names_ += name;
    }
  }
}

std::size_t SliceIndex::location_slot(std::string_view node) const {
  std::size_t mask = location_slots_.size() - 1;
  for (std::size_t i = std::hash<std::string_view>{}(node)&mask;; i = (i + 1) & mask) {
    const auto& slot = location_slots_[i];
    if (slot.where.slice < 0 || location_names_.compare(slot.name_offset, slot.name_size, node) == 0) return i;
  }
}

SliceIndex::Location SliceIndex::locate(const std::string& node) const {
  return location_slots_[location_slot(node)].where;
}

int SliceIndex::slice_named(const std::string& name) const {
  auto it = slice_by_name_.find(name);
  return it == slice_by_name_.end() ? -1 : it->second;
}

const GroupState* SliceIndex::group(const std::string& key) const {
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : &it->second;
}

}  // namespace tpustack::extender
