#include "extender/provisioning/provisioning_plan.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace tpustack::provisioning {
namespace {

bool has_selector(const PodFacts& pod, std::string_view key) {
  auto it = pod.node_selector.find(std::string(key));
  return it != pod.node_selector.end() && !it->second.empty();
}

const PoolState* find_pool(const std::vector<PoolState>& pools, const std::string& name) {
  for (const PoolState& pool : pools) {
    if (pool.name == name) return &pool;
  }
  return nullptr;
}

// Pools and the nodes in them; a node outside any pool is a slice of its own.
std::map<std::string, std::vector<const NodeFacts*>> nodes_by_pool(const std::vector<NodeFacts>& nodes) {
  std::map<std::string, std::vector<const NodeFacts*>> out;
  for (const NodeFacts& node : nodes) {
    std::string pool = node.label(kNodePoolLabel);
    out[pool.empty() ? "node/" + node.name : pool].push_back(&node);
  }
  return out;
}

std::set<std::string> nodes_in_use(const std::vector<PodFacts>& pods) {
  std::set<std::string> out;
  for (const PodFacts& pod : pods) {
    if (!pod.node_name.empty() && !pod.terminated() && pod.tpu_chips > 0) out.insert(pod.node_name);
  }
  return out;
}

// A slice nobody owns (not one of our pools) with the leader's shape, every host Ready, schedulable and
// idle: the scheduler will find it on its next try, so a new pool would be waste.
bool free_slice_fits(const PoolSpec& spec, const std::map<std::string, std::vector<const NodeFacts*>>& slices,
                     const std::set<std::string>& busy_nodes) {
  for (const auto& [pool, nodes] : slices) {
    if (static_cast<int>(nodes.size()) < spec.node_count()) continue;
    bool fits = std::all_of(nodes.begin(), nodes.end(), [&](const NodeFacts* node) {
      return node->label(kManagedByLabel).empty() &&
             node->label(kAcceleratorLabel) == spec.slice.generation_info().accelerator_label &&
             node->label(kTopologyLabel) == spec.slice.topology().to_string() && node->ready && !node->unschedulable &&
             !busy_nodes.contains(node->name);
    });
    if (fits) return true;
  }
  return false;
}

OwnerState pods_owner_state(const std::vector<PodFacts>& pods, const std::string& ns, const std::string& group) {
  for (const PodFacts& pod : pods) {
    if (pod.ns == ns && pod.group && pod.group->owner_kind == OwnerKind::kPods && pod.group->owner == group &&
        !pod.terminated()) {
      return OwnerState::kActive;
    }
  }
  return OwnerState::kGone;
}

// nullopt for a pool of ours whose labels do not name an owner: an orphan.
std::optional<OwnerState> owner_state(const PoolState& pool, const ClusterSnapshot& snapshot) {
  auto kind = parse_owner_kind(pool.label(kOwnerKindLabel));
  std::string ns = pool.label(kGroupNamespaceLabel);
  std::string name = pool.label(kOwnerNameLabel);
  if (!kind || ns.empty() || name.empty()) return std::nullopt;
  if (*kind == OwnerKind::kPods) return pods_owner_state(snapshot.pods, ns, name);
  auto it = snapshot.owners.find(owner_key(*kind, ns, name));
  return it == snapshot.owners.end() ? OwnerState::kActive : it->second;
}

bool pool_in_use(const std::string& pool, const std::map<std::string, std::vector<const NodeFacts*>>& slices,
                 const std::set<std::string>& busy_nodes) {
  auto it = slices.find(pool);
  if (it == slices.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const NodeFacts* node) { return busy_nodes.contains(node->name); });
}

std::string pending_deletion_reason(const PoolState& pool, const std::optional<OwnerState>& state) {
  if (!state) return "orphan: its labels name no owner";
  std::string owner =
      pool.label(kOwnerKindLabel) + " " + pool.label(kGroupNamespaceLabel) + "/" + pool.label(kOwnerNameLabel);
  return owner + (*state == OwnerState::kGone ? " is gone" : " has finished");
}

}  // namespace

std::string owner_key(OwnerKind kind, const std::string& ns, const std::string& name) {
  return to_string(kind) + "/" + ns + "/" + name;
}

bool managed(const PoolState& pool) { return pool.label(kManagedByLabel) == kManagedByValue; }

std::string trigger_blocker(const PodFacts& pod) {
  if (pod.phase != "Pending" || !pod.node_name.empty()) return "not pending";
  if (pod.deleting) return "being deleted";
  if (!pod.unschedulable) return "not marked Unschedulable by the scheduler";
  if (pod.tpu_chips <= 0) return "requests no " + std::string(kTpuResource);
  if (!has_selector(pod, kAcceleratorLabel) || !has_selector(pod, kTopologyLabel)) {
    return "selects no TPU accelerator and topology";
  }
  if (!pod.group) return "in no group";
  if (!pod.group->leader()) return "not the leader of its group";
  if (pod.opted_out) return "opted out of provisioning";
  return "";
}

ProvisioningPlan plan_provisioning(const ClusterSnapshot& snapshot, const PlanSettings& settings, Clock::time_point now,
                                   const std::map<std::string, Clock::time_point>& finished_since) {
  ProvisioningPlan plan;
  auto slices = nodes_by_pool(snapshot.nodes);
  auto busy_nodes = nodes_in_use(snapshot.pods);

  auto backing_off = [&](const std::string& pool) {
    auto retry = snapshot.retry_not_before.find(pool);
    return retry != snapshot.retry_not_before.end() && now < retry->second;
  };

  int our_pools = 0;
  int our_chips = 0;
  for (const PoolState& pool : snapshot.pools) {
    if (!managed(pool)) continue;
    ++our_pools;
    our_chips += pool.chips;
    if (snapshot.busy_pools.contains(pool.name) || pool.status == "STOPPING") continue;
    if (pool.status == "ERROR") {
      if (!backing_off(pool.name))
        plan.deletes.push_back({pool.name, "pool is in ERROR state: " + pool.status_message});
      continue;
    }
    auto state = owner_state(pool, snapshot);
    if (state == OwnerState::kActive) continue;
    auto since = finished_since.find(pool.name);
    Clock::time_point first_seen = since == finished_since.end() ? now : since->second;
    plan.finished_since[pool.name] = first_seen;
    if (now - first_seen >= settings.deletion_grace && !backing_off(pool.name)) {
      plan.deletes.push_back({pool.name, pending_deletion_reason(pool, state)});
    }
  }

  // A leader whose JobSet or Job has finished or is gone waits for garbage collection, not for a pool.
  auto owner_done = [&](const GroupIdentity& group) {
    auto it = snapshot.owners.find(owner_key(group.owner_kind, group.ns, group.owner));
    return it != snapshot.owners.end() && it->second != OwnerState::kActive;
  };
  std::vector<const PodFacts*> leaders;
  for (const PodFacts& pod : snapshot.pods) {
    if (trigger_blocker(pod).empty() && !owner_done(*pod.group)) leaders.push_back(&pod);
  }
  std::sort(leaders.begin(), leaders.end(),
            [](const PodFacts* a, const PodFacts* b) { return std::tie(a->ns, a->name) < std::tie(b->ns, b->name); });

  std::set<std::string> planned;
  for (const PodFacts* leader : leaders) {
    std::optional<PoolSpec> spec;
    try {
      spec = build_pool_spec(*leader, settings.defaults);
    } catch (const PoolSpecError& e) {
      plan.blocked.push_back({*leader, e.what(), true});
      continue;
    }
    if (planned.contains(spec->name) || snapshot.busy_pools.contains(spec->name)) continue;
    if (const PoolState* existing = find_pool(snapshot.pools, spec->name)) {
      // A pool of another shape, not in use, for a leader that cannot run on it: replace it.
      bool stale = managed(*existing) && existing->status != "STOPPING" && existing->status != "ERROR" &&
                   existing->label(kSpecHashLabel) != spec->hash && !pool_in_use(existing->name, slices, busy_nodes);
      bool already = std::any_of(plan.deletes.begin(), plan.deletes.end(),
                                 [&](const DeleteAction& d) { return d.pool == existing->name; });
      if (stale && !already)
        plan.deletes.push_back({existing->name, "its shape no longer matches leader " + leader->name});
      continue;
    }
    if (free_slice_fits(*spec, slices, busy_nodes)) continue;
    if (backing_off(spec->name)) continue;
    if (settings.cleanup_only) {
      plan.blocked.push_back({*leader, "the provisioner runs in cleanup-only mode"});
      continue;
    }
    if (settings.max_pools > 0 && our_pools + 1 > settings.max_pools) {
      plan.blocked.push_back({*leader, fmt::format("the cap of {} provisioned pools is reached", settings.max_pools)});
      continue;
    }
    if (settings.max_chips > 0 && our_chips + spec->slice.chips() > settings.max_chips) {
      plan.blocked.push_back({*leader, fmt::format("{} more chips would pass the cap of {} provisioned chips",
                                                   spec->slice.chips(), settings.max_chips)});
      continue;
    }
    ++our_pools;
    our_chips += spec->slice.chips();
    planned.insert(spec->name);
    plan.creates.push_back({*spec, *leader});
  }
  return plan;
}

}  // namespace tpustack::provisioning
