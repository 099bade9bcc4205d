#pragma once

#include <optional>
#include <string>
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

struct Judgement {
  Fit fit = Fit::kFits;
  int score = 0;       // 0..10, meaningful when the pod fits
  std::string reason;  // for people, when it does not
};

// The placement rules for one pod against single nodes:
// - a leader takes any host of a whole free slice of its shape (host 0 scores highest);
// - a follower goes only to the host of its worker id on its group's slice, and waits until the
//   leader is bound;
// - a single-host pod bin-packs onto hosts of its shape, never onto a slice a group holds.
class NodeJudge {
 public:
  // Both must outlive the judge.
  NodeJudge(const PodRequest& request, const SliceIndex& index);

  Judgement judge(const std::string& node);

 private:
  Judgement judge_whole_slice(int slice_index);
  Judgement judge_group_host(const std::string& node, const Slice* slice, int host);
  Judgement judge_single_host(const Slice& slice, int host);
  std::optional<Judgement> shape_mismatch(const Slice& slice) const;

  const PodRequest& request_;
  const SliceIndex& index_;
  std::vector<std::optional<Judgement>> slice_verdicts_;  // per slice, for leaders
};

struct FilterOutcome {
  std::vector<std::string> passed;
  std::vector<std::pair<std::string, std::string>> failed;        // node, reason
  std::vector<std::pair<std::string, std::string>> unresolvable;  // node, reason
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
