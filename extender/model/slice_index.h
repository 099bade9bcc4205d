#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/topology/slice_spec.h"
#include "extender/model/tpu_node.h"
#include "extender/model/tpu_pod.h"

namespace tpustack::extender {

struct SliceHost {
  std::string node;
  int allocatable = 0;
  int used = 0;  // chips requested by active pods bound here
  bool ready = false;
  bool unschedulable = false;
  std::vector<Taint> taints;

  int free() const { return allocatable - used; }
};

// One TPU slice: a multi-host node pool, or a single host. Hosts are ordered by node name, and that
// order is the default worker order.
struct Slice {
  std::string name;  // the node pool for a multi-host slice, the node for a single-host one
  std::string accelerator;
  std::string topology;
  std::optional<topology::SliceSpec> spec;
  std::string shape_problem;  // why the labels do not describe real hardware; empty when spec is set
  std::vector<SliceHost> hosts;
  int used_chips = 0;
  std::string holder;  // key of the group that reserved it; empty when none
  std::string holder_name;
  std::string created_for;  // "<ns>/<group>" whose pool the provisioner created it as; empty otherwise
  int shape_id = -1;        // slices with the same accelerator, topology and hosts share it

  bool multi_host() const { return spec && spec->multi_host(); }
  std::size_t expected_hosts() const { return spec ? static_cast<std::size_t>(spec->hosts()) : 1; }
  bool complete() const { return hosts.size() == expected_hosts(); }
  std::string shape() const { return accelerator + " " + topology; }
};

// A gang as the cluster shows it: its active pods and, once it holds one, its slice.
struct GroupState {
  std::string key;
  std::string name;
  std::string pool_owner;              // GroupMember::pool_owner
  std::optional<UnitMembership> unit;  // GroupMember::unit
  int active_pods = 0;
  int bound_pods = 0;
  std::vector<std::string> pods;              // keys of its active pods
  std::string leader;                         // pod key of worker 0, when that pod exists
  int slice = -1;                             // index into SliceIndex::slices(), -1 while it holds none
  bool reserved = false;                      // holds its slice by reservation, no member bound yet
  std::vector<std::string> worker_nodes;      // node of each worker id on the slice
  std::vector<std::string> worker_hostnames;  // as recorded on its pods at bind
  // A reservation that no longer holds, and why (another pod took chips of the slice, the slice went).
  std::string lost_reservation;
};

// Slices promised to groups before any member is bound (reserve at first sight): group key → slice name.
using Reservations = std::map<std::string, std::string>;

// The node of each worker id on `slice`: the nodes that bound members (worker id → node) occupy, then
// the remaining hosts in slice order. With only the leader bound on host k, worker 0 is host k and the
// others follow in order; so worker ids stay stable across restarts.
std::vector<std::string> assign_workers(const Slice& slice, const std::map<int, std::string>& occupied);

// Slices, free chips and the groups holding them, derived from Nodes, Pods and reservations. A group
// holds a slice through its bound members (their annotations, so that after an extender restart it is
// the same as before), else through its reservation, else through a pool the provisioner created for it. A
// reservation of a group with no pod in `pods` holds its slice too (holder and holder_name: the group key).
class SliceIndex {
 public:
  SliceIndex(const std::map<std::string, TpuNode>& nodes, const std::map<std::string, TpuPod>& pods,
             const Reservations& reservations = {});

  const std::vector<Slice>& slices() const { return slices_; }
  struct Location {
    int slice = -1;
    int host = -1;
    int shape = -1;  // the slice's shape_id, kept here so that a wrong shape is known without the slice
  };
  // Where a node sits; slice -1 for unknown or non-TPU nodes.
  Location locate(const std::string& node) const;
  const GroupState* group(const std::string& key) const;
  // -1 when no slice has that name.
  int slice_named(const std::string& name) const;
  int shape_count() const { return static_cast<int>(shape_examples_.size()); }
  const std::map<std::string, GroupState>& groups() const { return groups_; }

 private:
  void add_pool(const std::vector<const TpuNode*>& nodes);
  void reserve_for_groups(const std::map<std::string, TpuPod>& pods, const Reservations& reservations);
  // Gives an unplaced group the slice it reserved, or the free pool created for it.
  void hold_reserved(GroupState& group, const Reservations& reservations,
                     const std::map<std::string, int>& foreign_chips);

  int shape_id(const Slice& slice);
  void index_locations();
  // The slot holding `node`, or the empty slot where it would go.
  std::size_t location_slot(std::string_view node) const;

  std::vector<Slice> slices_;
  std::vector<int> shape_examples_;  // a slice index per shape id
  // Node name → Location, open-addressed in one array: filter looks up every node it is given, and
  // the separately allocated entries of an unordered_map cost cache misses at thousands of nodes.
  struct LocationSlot {
    std::uint32_t name_offset = 0;  // into location_names_
    std::uint32_t name_size = 0;
    Location where;  // slice -1: an empty slot
  };
  std::vector<LocationSlot> location_slots_;  // a power of two in size, at most half full
  std::string location_names_;                // the TPU nodes' names back to back
  std::map<std::string, GroupState> groups_;
  std::map<std::string, int> slice_by_name_;
};

}  // namespace tpustack::extender
