#include "extender/model/cluster_state.h"

#include <set>

namespace tpustack::extender {

void ClusterState::upsert_node(TpuNode node) {
  auto name = node.name;
  nodes_.insert_or_assign(std::move(name), std::move(node));
  index_.reset();
}

void ClusterState::remove_node(const std::string& name) {
  nodes_.erase(name);
  index_.reset();
}

void ClusterState::upsert_pod(TpuPod pod) {
  auto key = pod.key();
  if (auto it = assumed_.find(key); it != assumed_.end()) {
    if (pod.bound() || pod.uid != it->second.uid) {
      assumed_.erase(it);
    } else {
      pod.node_name = it->second.node;
      pod.placement = it->second.placement;
    }
  }
  pods_.insert_or_assign(std::move(key), std::move(pod));
  index_.reset();
}

void ClusterState::remove_pod(const std::string& key) {
  pods_.erase(key);
  assumed_.erase(key);
  index_.reset();
}

void ClusterState::assume_bound(const std::string& pod_key, const std::string& node,
                                std::optional<Placement> placement) {
  auto it = pods_.find(pod_key);
  if (it == pods_.end()) return;
  assumed_[pod_key] = Assumption{it->second.uid, node, placement};
  it->second.node_name = node;
  it->second.placement = std::move(placement);
  index_.reset();
}

void ClusterState::forget(const std::string& pod_key) {
  auto it = assumed_.find(pod_key);
  if (it == assumed_.end()) return;
  assumed_.erase(it);
  if (auto pod = pods_.find(pod_key); pod != pods_.end()) {
    pod->second.node_name.clear();
    pod->second.placement.reset();
  }
  index_.reset();
}

void ClusterState::reserve(const std::string& group_key, const std::string& slice,
                           std::chrono::steady_clock::time_point now) {
  reservations_[group_key] = Reservation{slice, now};
  index_.reset();
}

void ClusterState::release(const std::string& group_key) {
  if (reservations_.erase(group_key) > 0) index_.reset();
}

const TpuPod* ClusterState::find_pod(const std::string& key) const {
  auto it = pods_.find(key);
  return it == pods_.end() ? nullptr : &it->second;
}

void ClusterState::mirror_reservations(std::map<std::string, Reservation> reservations) {
  reservations_ = std::move(reservations);
  mirrored_ = true;
  index_.reset();
}

const SliceIndex& ClusterState::index() {
  if (index_) return *index_;
  if (!mirrored_) {
    // A group whose pods are all gone needs no reservation.
    std::set<std::string> groups;
    for (const auto& [key, pod] : pods_) {
      if (pod.group && pod.active() && pod.chips > 0) groups.insert(pod.group->key);
    }
    std::erase_if(reservations_, [&groups](const auto& entry) { return !groups.contains(entry.first); });
  }
  Reservations slices;
  for (const auto& [group, reservation] : reservations_) slices.emplace(group, reservation.slice);
  index_ = std::make_unique<SliceIndex>(nodes_, pods_, slices);
  if (!mirrored_) {
    // Nor does one that holds its slice through bound members now.
    std::erase_if(reservations_, [this](const auto& entry) {
      const GroupState* group = index_->group(entry.first);
      return group == nullptr || (group->slice >= 0 && !group->reserved);
    });
  }
  return *index_;
}

}  // namespace tpustack::extender
