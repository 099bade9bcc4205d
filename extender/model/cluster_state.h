#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "extender/model/slice_index.h"
#include "extender/model/tpu_node.h"
#include "extender/model/tpu_pod.h"

namespace tpustack::extender {

// The Nodes and Pods the extender knows (from informers, or a snapshot for `plan`), plus binds it has
// made that the API server has not shown back yet. Not thread-safe: callers hold one lock around it.
class ClusterState {
 public:
  void upsert_node(TpuNode node);
  void remove_node(const std::string& name);
  void upsert_pod(TpuPod pod);
  void remove_pod(const std::string& key);

  // Counts `pod_key` as bound to `node` with `placement` until an update shows the pod bound, the pod
  // goes away, or forget() undoes it (the bind failed). This is what keeps a slice reserved between
  // the leader's bind and the informer's view of it: kube-scheduler's "assume".
  void assume_bound(const std::string& pod_key, const std::string& node, std::optional<Placement> placement);
  void forget(const std::string& pod_key);

  // Reserve at first sight: `slice` is `group_key`'s from now on, though none of its pods is bound yet;
  // its members then fit only their hosts of it. Kept in memory: members' bind annotations make it durable.
  void reserve(const std::string& group_key, const std::string& slice, std::chrono::steady_clock::time_point now);
  void release(const std::string& group_key);
  struct Reservation {
    std::string slice;
    std::chrono::steady_clock::time_point since;
  };
  const std::map<std::string, Reservation>& reservations() const { return reservations_; }
  // Replaces the reservations with a copy of the ledger replicas share (service/shared_reservations.h). From then
  // on they are kept as the ledger has them: index() no longer drops those of gone or bound groups (the ledger's
  // writers do), and one whose group has no pod here yet still holds its slice.
  void mirror_reservations(std::map<std::string, Reservation> reservations);

  const TpuPod* find_pod(const std::string& key) const;
  const std::map<std::string, TpuNode>& nodes() const { return nodes_; }
  const std::map<std::string, TpuPod>& pods() const { return pods_; }

  // Rebuilt lazily after any change.
  const SliceIndex& index();

 private:
  struct Assumption {
    std::string uid;
    std::string node;
    std::optional<Placement> placement;
  };

  std::map<std::string, TpuNode> nodes_;
  std::map<std::string, TpuPod> pods_;
  std::map<std::string, Assumption> assumed_;
  std::map<std::string, Reservation> reservations_;
  bool mirrored_ = false;
  std::unique_ptr<SliceIndex> index_;
};

}  // namespace tpustack::extender
