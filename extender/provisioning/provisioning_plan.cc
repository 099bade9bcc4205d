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

bool idle_and_ready(const NodeFacts& node, const std::set<std::string>& busy_nodes) {
  return node.label(kManagedByLabel).empty() && node.ready && !node.unschedulable && !busy_nodes.contains(node.name);
}

// Slices nobody owns (not our pools) with the leader's shape, every host Ready, schedulable and idle: the
// scheduler will find them on its next try, so new pools for them would be waste.
std::size_t free_slices(const PoolSpec& spec, const std::map<std::string, std::vector<const NodeFacts*>>& slices,
                        const std::set<std::string>& busy_nodes) {
  std::size_t free = 0;
  for (const auto& [pool, nodes] : slices) {
    if (static_cast<int>(nodes.size()) < spec.node_count) continue;
    free += std::all_of(nodes.begin(), nodes.end(), [&](const NodeFacts* node) {
      return idle_and_ready(*node, busy_nodes) &&
             node->label(kAcceleratorLabel) == spec.slice.generation_info().accelerator_label &&
             node->label(kTopologyLabel) == spec.slice.topology().to_string();
    });
  }
  return free;
}

// Moves each action next to the first one of its batch, order otherwise kept, so that the controller can start
// a batch together.
template <class Action>
void gather_batches(std::vector<Action>& actions) {
  std::vector<Action> gathered;
  std::vector<bool> taken(actions.size(), false);
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (taken[i]) continue;
    for (std::size_t j = i; j < actions.size(); ++j) {
      if (j != i && (actions[i].batch.empty() || taken[j] || actions[j].batch != actions[i].batch)) continue;
      taken[j] = true;
      gathered.push_back(std::move(actions[j]));
    }
  }
  actions = std::move(gathered);
}

// The same for one host of a workload's shape.
bool free_host_fits(const PoolSpec& spec, const std::vector<NodeFacts>& nodes,
                    const std::set<std::string>& busy_nodes) {
  return std::any_of(nodes.begin(), nodes.end(), [&](const NodeFacts& node) {
    return idle_and_ready(node, busy_nodes) &&
           node.label(kAcceleratorLabel) == spec.slice.generation_info().accelerator_label &&
           node.label(kTopologyLabel) == spec.slice.topology().to_string() &&
           node.label(kAcceleratorCountLabel) == std::to_string(spec.slice.chips_per_host());
  });
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

std::string owner_text(const PoolState& pool) {
  return pool.label(kOwnerKindLabel) + " " + pool.label(kGroupNamespaceLabel) + "/" + pool.label(kOwnerNameLabel);
}

std::string pending_deletion_reason(const PoolState& pool, const std::optional<OwnerState>& state) {
  if (!state) return "orphan: its labels name no owner";
  return owner_text(pool) + (*state == OwnerState::kGone ? " is gone" : " has finished");
}

// Only a pool GKE is not changing can be resized.
bool settled(const PoolState& pool) {
  return pool.status == PoolStatus::kRunning || pool.status == PoolStatus::kRunningWithError;
}

// What a workload's pool must hold this round.
struct WorkloadDemand {
  PoolSpec spec;                         // node_count: the hosts its pods need
  int chips = 0;                         // over its pending pods and the pods bound to it
  std::vector<const PodFacts*> waiting;  // marked Unschedulable, by namespace and name
};

// One round's decisions; each step reads the snapshot and adds to `plan`.
class Planner {
 public:
  Planner(const ClusterSnapshot& snapshot, const PlanSettings& settings, Clock::time_point now,
          const std::map<std::string, Clock::time_point>& surplus_since)
      : snapshot_(snapshot),
        settings_(settings),
        now_(now),
        surplus_since_(surplus_since),
        slices_(nodes_by_pool(snapshot.nodes)),
        busy_nodes_(nodes_in_use(snapshot.pods)) {}

  ProvisioningPlan run() {
    read_demand();
    for (const PoolState& pool : snapshot_.pools) judge_existing(pool);
    serve_waiting_pods();
    for (const auto& [name, demand] : demands_) {
      if (!demand.waiting.empty()) serve_workload(demand);
    }
    gather_batches(plan_.deletes);
    return std::move(plan_);
  }

 private:
  bool backing_off(const std::string& pool) const {
    auto retry = snapshot_.retry_not_before.find(pool);
    return retry != snapshot_.retry_not_before.end() && now_ < retry->second;
  }

  int nodes_of(const std::string& pool) const {
    auto it = slices_.find(pool);
    return it == slices_.end() ? 0 : static_cast<int>(it->second.size());
  }

  int busy_nodes_of(const std::string& pool) const {
    auto it = slices_.find(pool);
    if (it == slices_.end()) return 0;
    return static_cast<int>(std::count_if(it->second.begin(), it->second.end(),
                                          [&](const NodeFacts* node) { return busy_nodes_.contains(node->name); }));
  }

  // A workload pool's size: what this process asked for until the nodes show up, then the nodes.
  int size_of(const PoolState& pool) const {
    auto asked = snapshot_.asked_nodes.find(pool.name);
    return asked != snapshot_.asked_nodes.end() ? asked->second : nodes_of(pool.name);
  }

  // Pending pods ask for their workload's pool; bound pods count where they run in theirs.
  void read_demand() {
    std::map<std::string, std::string> pool_of_node;
    for (const NodeFacts& node : snapshot_.nodes) pool_of_node[node.name] = node.label(kNodePoolLabel);
    for (const PodFacts& pod : snapshot_.pods) {
      if (pod.tpu_chips <= 0 || pod.terminated() || pod.deleting || pod.opted_out) continue;
      std::string placed_in;
      if (!pod.node_name.empty()) {
        placed_in = pool_of_node[pod.node_name];
        const PoolState* pool = find_pool(snapshot_.pools, placed_in);
        if (pool == nullptr || !workload_pool(*pool)) continue;
      }
      auto spec = build_pool_spec(pod, settings_.defaults);
      if (!spec) continue;  // a waiting pod hears why from serve_waiting_pods(); a bound one needs nothing
      if (!spec->for_workload || (!placed_in.empty() && placed_in != spec->name)) continue;
      WorkloadDemand& demand = demands_.try_emplace(spec->name, WorkloadDemand{*spec, 0, {}}).first->second;
      demand.chips += pod.tpu_chips;
      if (!trigger_blocker(pod)) demand.waiting.push_back(&pod);
    }
    for (auto& [name, demand] : demands_) {
      const int per_host = demand.spec.slice.chips_per_host();
      demand.spec.node_count = (demand.chips + per_host - 1) / per_host;
      std::sort(demand.waiting.begin(), demand.waiting.end(), [](const PodFacts* a, const PodFacts* b) {
        return std::tie(a->ns, a->name) < std::tie(b->ns, b->name);
      });
    }
  }

  // Counts the pool against the caps and deletes or shrinks it when nobody needs (all of) it.
  void judge_existing(const PoolState& pool) {
    if (!managed(pool)) return;
    const bool for_workload = workload_pool(pool);
    const int size = for_workload ? size_of(pool) : pool.node_count;
    ++our_pools_;
    our_chips_ += pool.node_count > 0 ? size * (pool.chips / pool.node_count) : pool.chips;
    if (for_workload) {
      auto asked = snapshot_.asked_nodes.find(pool.name);
      if (asked != snapshot_.asked_nodes.end() && asked->second != nodes_of(pool.name)) {
        plan_.asked_nodes.insert(*asked);
      }
    }
    if (snapshot_.busy_pools.contains(pool.name) || pool.status == PoolStatus::kStopping) return;
    if (pool.status == PoolStatus::kError) {
      if (!backing_off(pool.name))
        plan_.deletes.push_back({pool.name, "pool is in ERROR state: " + pool.status_message});
      return;
    }
    if (for_workload) {
      judge_workload_pool(pool, size);
      return;
    }
    auto state = owner_state(pool, snapshot_);
    if (state == OwnerState::kActive) return;
    if (surplus_for_longer_than_grace(pool.name) && !backing_off(pool.name)) {
      // Pools of one owner (a multislice JobSet's, one per slice) reach here in the same round and go together.
      plan_.deletes.push_back({pool.name, pending_deletion_reason(pool, state), state ? owner_text(pool) : ""});
    }
  }

  // Never below the nodes in use: GKE picks the nodes a resize removes, and pods of other workloads
  // that tolerate and select the same shape may run here too.
  void judge_workload_pool(const PoolState& pool, int size) {
    if (!settled(pool)) return;
    auto demand = demands_.find(pool.name);
    const int needed = demand == demands_.end() ? 0 : demand->second.spec.node_count;
    const int target = std::max(needed, busy_nodes_of(pool.name));
    if (target > 0 && target >= size) return;
    if (!surplus_for_longer_than_grace(pool.name) || backing_off(pool.name)) return;
    if (target == 0) {
      plan_.deletes.push_back({pool.name, owner_text(pool) + " has no pods left"});
    } else {
      plan_.resizes.push_back(
          {pool.name, size, target, fmt::format("{} needs {} of its {} nodes", owner_text(pool), target, size)});
    }
  }

  bool surplus_for_longer_than_grace(const std::string& pool) {
    auto since = surplus_since_.find(pool);
    Clock::time_point first_seen = since == surplus_since_.end() ? now_ : since->second;
    plan_.surplus_since[pool] = first_seen;
    return now_ - first_seen >= settings_.deletion_grace;
  }

  // Why `pools` more pools of `chips` more chips cannot be had now; nullopt when they can.
  std::optional<std::string> cap_blocker(int pools, int chips) const {
    if (settings_.cleanup_only) return "the provisioner runs in cleanup-only mode";
    if (settings_.max_pools > 0 && our_pools_ + pools > settings_.max_pools) {
      return fmt::format("the cap of {} provisioned pools is reached", settings_.max_pools);
    }
    if (settings_.max_chips > 0 && our_chips_ + chips > settings_.max_chips) {
      return fmt::format("{} more chips would pass the cap of {} provisioned chips", chips, settings_.max_chips);
    }
    return std::nullopt;
  }

  // A waiting pod's wish that can never be met; each such pod hears it.
  bool blocked_for_good(const PodFacts& pod, std::optional<PoolSpec>& spec) {
    auto built = build_pool_spec(pod, settings_.defaults);
    if (!built) {
      plan_.blocked.push_back({pod, built.error().message, true});
      return true;
    }
    spec = std::move(*built);
    return false;
  }

  // Waiting pods whose wish can never be met hear why; leaders waiting for a group slice get one unless
  // their JobSet or Job is done.
  void serve_waiting_pods() {
    auto owner_done = [&](const GroupIdentity& group) {
      auto it = snapshot_.owners.find(owner_key(group.owner_kind, group.ns, group.owner));
      return it != snapshot_.owners.end() && it->second != OwnerState::kActive;
    };
    std::vector<const PodFacts*> waiting;
    for (const PodFacts& pod : snapshot_.pods) {
      if (!trigger_blocker(pod)) waiting.push_back(&pod);
    }
    std::sort(waiting.begin(), waiting.end(),
              [](const PodFacts* a, const PodFacts* b) { return std::tie(a->ns, a->name) < std::tie(b->ns, b->name); });
    std::map<std::string, std::vector<UnitLeader>> units;  // by unit key
    for (const PodFacts* pod : waiting) {
      std::optional<PoolSpec> spec;
      if (blocked_for_good(*pod, spec) || spec->for_workload || owner_done(*pod->group)) continue;
      if (pod->group->unit) {
        units[pod->group->unit->key].push_back({pod, *spec});
      } else if (!pool_underway(*pod, *spec) && free_slices(*spec, slices_, busy_nodes_) == 0 &&
                 !backing_off(spec->name)) {
        create(*spec, *pod);
      }
    }
    for (const auto& [key, leaders] : units) serve_unit(leaders);
  }

  struct UnitLeader {
    const PodFacts* pod;
    PoolSpec spec;
  };

  // A multislice unit gets its slices all at once: once the leaders of all its slices wait, a pool for each
  // slice that has none, in one round (one batch), unless enough free slices stand ready for those.
  void serve_unit(const std::vector<UnitLeader>& leaders) {
    const extender::UnitMembership& unit = *leaders.front().pod->group->unit;
    std::set<int> slices_waiting;
    for (const UnitLeader& leader : leaders) slices_waiting.insert(leader.pod->group->unit->slice);
    if (static_cast<int>(slices_waiting.size()) < unit.slices) {
      for (const UnitLeader& leader : leaders) {
        plan_.blocked.push_back({*leader.pod, fmt::format("{}: the leaders of {} of its {} slices wait; its pools are "
                                                          "created together once all do",
                                                          unit.name, slices_waiting.size(), unit.slices)});
      }
      return;
    }
    std::vector<const UnitLeader*> missing;
    int chips = 0;
    for (const UnitLeader& leader : leaders) {
      if (pool_underway(*leader.pod, leader.spec)) continue;
      missing.push_back(&leader);
      chips += leader.spec.chips();
    }
    if (missing.empty() || free_slices(missing.front()->spec, slices_, busy_nodes_) >= missing.size()) return;
    if (auto blocker = cap_blocker(static_cast<int>(missing.size()), chips)) {
      for (const UnitLeader* leader : missing) {
        plan_.blocked.push_back(
            {*leader->pod, fmt::format("{} needs {} pools at once: {}", unit.name, missing.size(), *blocker)});
      }
      return;
    }
    for (const UnitLeader* leader : missing) {
      if (!backing_off(leader->spec.name)) create(leader->spec, *leader->pod, unit.key);
    }
  }

  // Whether the leader's pool is planned, being worked on or there (replaced when of another shape and idle).
  bool pool_underway(const PodFacts& leader, const PoolSpec& spec) {
    if (planned_.contains(spec.name) || snapshot_.busy_pools.contains(spec.name)) return true;
    if (const PoolState* existing = find_pool(snapshot_.pools, spec.name)) {
      // A pool of another shape, not in use, for a leader that cannot run on it: replace it.
      bool stale = managed(*existing) && existing->status != PoolStatus::kStopping &&
                   existing->status != PoolStatus::kError && existing->label(kSpecHashLabel) != spec.hash &&
                   !pool_in_use(existing->name, slices_, busy_nodes_);
      bool already = std::any_of(plan_.deletes.begin(), plan_.deletes.end(),
                                 [&](const DeleteAction& d) { return d.pool == existing->name; });
      if (stale && !already)
        plan_.deletes.push_back({existing->name, "its shape no longer matches leader " + leader.name});
      return true;
    }
    return false;
  }

  // Creates the workload's pool, or grows it to what its pods need.
  void serve_workload(const WorkloadDemand& demand) {
    const PodFacts& first = *demand.waiting.front();
    const PoolSpec& spec = demand.spec;
    if (snapshot_.busy_pools.contains(spec.name) || backing_off(spec.name)) return;
    if (free_host_fits(spec, snapshot_.nodes, busy_nodes_)) return;
    const PoolState* existing = find_pool(snapshot_.pools, spec.name);
    if (existing == nullptr) {
      create(spec, first);
      return;
    }
    const int size = size_of(*existing);
    if (!workload_pool(*existing) || !settled(*existing) || spec.node_count <= size) return;
    if (auto blocker = cap_blocker(0, (spec.node_count - size) * spec.slice.chips_per_host())) {
      plan_.blocked.push_back({first, *blocker});
      return;
    }
    our_chips_ += (spec.node_count - size) * spec.slice.chips_per_host();
    plan_.resizes.push_back({spec.name, size, spec.node_count,
                             fmt::format("{} pods of {} {}/{} wait", demand.waiting.size(), first.workload.kind,
                                         first.workload.ns, first.workload.name)});
  }

  void create(const PoolSpec& spec, const PodFacts& pod, const std::string& batch = "") {
    if (auto blocker = cap_blocker(1, spec.chips())) {
      plan_.blocked.push_back({pod, *blocker});
      return;
    }
    ++our_pools_;
    our_chips_ += spec.chips();
    planned_.insert(spec.name);
    plan_.creates.push_back({spec, pod, batch});
  }

  const ClusterSnapshot& snapshot_;
  const PlanSettings& settings_;
  const Clock::time_point now_;
  const std::map<std::string, Clock::time_point>& surplus_since_;
  const std::map<std::string, std::vector<const NodeFacts*>> slices_;
  const std::set<std::string> busy_nodes_;
  std::map<std::string, WorkloadDemand> demands_;  // by pool name
  std::set<std::string> planned_;
  int our_pools_ = 0;
  int our_chips_ = 0;
  ProvisioningPlan plan_;
};

}  // namespace

bool managed(const PoolState& pool) { return pool.label(kManagedByLabel) == kManagedByValue; }

bool workload_pool(const PoolState& pool) { return managed(pool) && pool.label(kPoolKindLabel) == kWorkloadPoolKind; }

std::optional<std::string_view> trigger_blocker(const PodFacts& pod) {
  if (pod.phase != "Pending" || !pod.node_name.empty()) return "not pending";
  if (pod.deleting) return "being deleted";
  if (!pod.unschedulable) return "not marked Unschedulable by the scheduler";
  if (pod.tpu_chips <= 0) return "requests no google.com/tpu";  // a literal: this runs for every pod event
  if (!has_selector(pod, kAcceleratorLabel) || !has_selector(pod, kTopologyLabel)) {
    return "selects no TPU accelerator and topology";
  }
  if (pod.opted_out) return "opted out of provisioning";
  // A pod whose slice cannot be built triggers, and the plan tells it why it gets nothing.
  if (auto slice = requested_slice(pod); slice && slice->multi_host() && !pod.group->leader()) {
    return "not the leader of its group";
  }
  return std::nullopt;
}

bool wakes_provisioner(const PodFacts& pod) { return pod.tpu_chips > 0 && (!trigger_blocker(pod) || pod.terminated()); }

ProvisioningPlan plan_provisioning(const ClusterSnapshot& snapshot, const PlanSettings& settings, Clock::time_point now,
                                   const std::map<std::string, Clock::time_point>& surplus_since) {
  return Planner(snapshot, settings, now, surplus_since).run();
}

}  // namespace tpustack::provisioning
