#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "extender/model/slice_index.h"
#include "extender/placement/pod_request.h"

namespace tpustack::extender {

enum class Fit {
  kFits,
  kBusy,   // may fit later or after preemption: FailedNodes
  kNever,  // wrong shape, or the pod's group is elsewhere: FailedAndUnresolvableNodes
};

// A reason for people. Shared: thousands of nodes fail for the same handful of reasons, and copying
// the text per node would cost more than the decision.
using Reason = std::shared_ptr<const std::string>;

struct Judgement {
  Fit fit = Fit::kFits;
  int score = 0;  // 0..10, meaningful when the pod fits
  Reason reason;  // set when it does not fit
};

// The placement rules for one pod against single nodes:
// - a member of a group that holds a slice goes only to the host of its worker id on that slice;
// - a member of a group that holds none fits host i (its worker id) of any whole free slice of its
//   shape; the first member the scheduler asks about reserves that slice for the whole group
//   (ExtenderService::filter), so no member waits for another;
// - a member of a multislice unit that is not whole yet fits no node (placement/multislice_unit.h);
// - a single-host pod bin-packs onto hosts of its shape, never onto a slice a group holds.
class NodeJudge {
 public:
  // Both must outlive the judge.
  NodeJudge(const PodRequest& request, const SliceIndex& index);

  Judgement judge(const std::string& node);
  // Whether slice `slice_index` is whole, free and of the pod's shape, so that its group may take it.
  Judgement judge_free_slice(int slice_index);

 private:
  Judgement judge_whole_slice(int slice_index);
  Judgement judge_group_host(const std::string& node, const Slice* slice, int host);
  Judgement judge_single_host(const Slice& slice, int host);
  // Why a slice of this shape can never take the pod, or nullopt when the shape is right. Computed once
  // per distinct shape: a cluster has thousands of nodes but a handful of shapes.
  const std::optional<Judgement>& shape_verdict(const Slice& slice);
  std::optional<Judgement> shape_mismatch(const Slice& slice) const;

  const PodRequest& request_;
  const SliceIndex& index_;
  std::vector<std::optional<Judgement>> slice_verdicts_;                 // per slice, for unplaced groups
  std::vector<std::optional<std::optional<Judgement>>> shape_verdicts_;  // per shape id, once known
  std::optional<Judgement> elsewhere_;  // for a member of a placed group, every node but its own
  std::optional<Judgement> unit_wait_;  // for a member of a multislice unit not whole yet, every node
};

// Node names are views into the `nodes` given to filter_nodes, valid while it lives.
struct FilterOutcome {
  std::vector<std::string_view> passed;
  std::vector<std::pair<std::string_view, Reason>> failed;
  std::vector<std::pair<std::string_view, Reason>> unresolvable;
};

FilterOutcome filter_nodes(const PodRequest& request, const SliceIndex& index, const std::vector<std::string>& nodes);

struct HostScore {
  std::string host;
  int score = 0;
};
// 0..10 for every node given; 0 where the pod does not fit.
std::vector<HostScore> prioritize_nodes(const PodRequest& request, const SliceIndex& index,
                                        const std::vector<std::string>& nodes);

}  // namespace tpustack::extender
