#include <gtest/gtest.h>

#include "extender/model/cluster_state.h"
#include "extender/model/kube_names.h"
#include "extender/placement/bind_decision.h"
#include "extender/placement/node_judge.h"
#include "extender/placement/preemption.h"
#include "extender/placement/slice_reservation.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::extender {
namespace {

using testing::add_slice;
using testing::job_worker;
using testing::node_names;
using testing::pod_json;
using testing::PodFields;
using testing::single_pod;
using tpustack::testing::value_of;

std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string_view, Reason>>& reasons) {
  std::map<std::string, std::string> map;
  for (const auto& [node, reason] : reasons) map.emplace(node, *reason);
  return map;
}

std::vector<std::string> names_of(const std::vector<std::string_view>& nodes) { return {nodes.begin(), nodes.end()}; }

class Placement : public ::testing::Test {
 protected:
  TpuPod add(const PodFields& fields) {
    auto pod = value_of(parse_pod(pod_json(fields)));
    state.upsert_pod(pod);
    return pod;
  }
  FilterOutcome filter(const TpuPod& pod) {
    names = node_names(state);  // the outcome's views point into it
    return filter_nodes(analyze_pod(pod, state.index()), state.index(), names);
  }
  // "" when the bind goes ahead, else its refusal: what a test compares.
  std::string bind(const TpuPod& pod, const std::string& node) {
    auto placement = assume_bind(state, pod, node);
    return placement ? "" : placement.error().message;
  }

  ClusterState state;
  std::vector<std::string> names;
};

TEST_F(Placement, LeaderTakesOnlyAWholeFreeSliceOfItsShape) {
  add_slice(state, "v5e-a", "tpu-v5-lite-podslice", "4x4", 4, 4);
  add_slice(state, "v5e-b", "tpu-v5-lite-podslice", "4x4", 4, 4);
  add_slice(state, "v5e-small", "tpu-v5-lite-podslice", "2x4", 2, 4);
  add_slice(state, "v6e", "tpu-v6e-slice", "4x4", 4, 4);
  add(single_pod("other", "tpu-v5-lite-podslice", "", 4, "v5e-b-3"));
  auto leader = add(job_worker("train", 0, "tpu-v5-lite-podslice", "4x4", 4));

  // Host 0 only: worker i runs on host i, whatever else kube-scheduler weighs.
  auto outcome = filter(leader);
  EXPECT_EQ(names_of(outcome.passed), (std::vector<std::string>{"v5e-a-0"}));
  auto failed = as_map(outcome.failed);
  EXPECT_EQ(failed["v5e-b-0"], "slice v5e-b is in use: 4 of 16 chips taken");
  auto never = as_map(outcome.unresolvable);
  EXPECT_EQ(never["v5e-a-2"], "worker 0 of Job default/train goes to host 0 of free slice v5e-a, v5e-a-0");
  EXPECT_EQ(never["v6e-0"],
            "tpu-v6e-slice 4x4 (4 hosts of 4 chips); the pod needs tpu-v5-lite-podslice 4x4 (4 hosts of 4 chips)");
  EXPECT_EQ(never.count("v5e-small-0"), 1u);

  auto scores = prioritize_nodes(analyze_pod(leader, state.index()), state.index(), {"v5e-a-0", "v5e-a-1", "v6e-0"});
  EXPECT_EQ(scores[0].score, 10);  // host 0: the leader is worker 0
  EXPECT_EQ(scores[1].score, 0);
  EXPECT_EQ(scores[2].score, 0);
}

TEST_F(Placement, AFollowerSeenFirstReservesASliceForTheWholeGroup) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  add_slice(state, "b", "tpu-v6e-slice", "4x4", 4, 4);
  auto follower = add(job_worker("train", 2, "tpu-v6e-slice", "4x4", 4));
  auto other = add(job_worker("other", 0, "tpu-v6e-slice", "4x4", 4));

  // Created followers-first, as JobSets often are: the follower does not wait for its leader.
  names = node_names(state);
  auto first = filter_reserving(state, follower, names, std::chrono::steady_clock::now());
  EXPECT_EQ(first.reserved_slice, "a");
  EXPECT_EQ(names_of(first.outcome.passed), (std::vector<std::string>{"a-2"}));
  EXPECT_EQ(as_map(first.outcome.unresolvable)["a-1"], "Job default/train holds slice a; worker 2 goes to a-2");

  // The leader, seen later, fits only host 0 of the same slice; another group cannot take it.
  auto leader = add(job_worker("train", 0, "tpu-v6e-slice", "4x4", 4));
  EXPECT_EQ(names_of(filter(leader).passed), (std::vector<std::string>{"a-0"}));
  auto elsewhere = filter(other);
  EXPECT_EQ(names_of(elsewhere.passed), (std::vector<std::string>{"b-0"}));
  EXPECT_EQ(as_map(elsewhere.failed)["a-0"], "slice a is reserved by Job default/train");

  ASSERT_EQ(bind(follower, "a-2"), "");
  auto placement = decide_bind(analyze_pod(leader, state.index()), state.index(), "a-0");
  ASSERT_TRUE(placement) << placement.error().message;
  EXPECT_EQ(placement->slice, "a");
  EXPECT_EQ(placement->worker_id, 0);
  EXPECT_EQ(placement->worker_hostnames,
            (std::vector<std::string>{"train-0.train", "train-1.train", "train-2.train", "train-3.train"}));
}

TEST_F(Placement, AReservationIsLostWhenAnotherSchedulersPodTakesChipsOfTheSlice) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  auto follower = add(job_worker("train", 1, "tpu-v6e-slice", "4x4", 4));
  names = node_names(state);
  ASSERT_EQ(filter_reserving(state, follower, names, std::chrono::steady_clock::now()).reserved_slice, "a");

  add(single_pod("intruder", "tpu-v6e-slice", "", 2, "a-3"));  // bound by the default scheduler
  const GroupState* group = state.index().group(follower.group->key);
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->slice, -1);
  EXPECT_EQ(group->lost_reservation, "slice a has 2 chips taken by pods outside Job default/train");
  EXPECT_EQ(state.index().slices()[0].used_chips, 2);  // the intruder's chips count
}

TEST_F(Placement, APoolCreatedForAGroupIsItsBeforeAnyMemberIsSeen) {
  add_slice(state, "mine", "tpu-v6e-slice", "4x4", 4, 4);
  for (const auto& name : node_names(state)) {
    TpuNode labelled = state.nodes().at(name);
    labelled.created_for = "default/train";  // tpustack.dev/group-namespace, tpustack.dev/group
    state.upsert_node(labelled);
  }
  auto stranger = add(job_worker("stranger", 0, "tpu-v6e-slice", "4x4", 4));
  EXPECT_TRUE(filter(stranger).passed.empty());
  auto member = add(job_worker("train", 3, "tpu-v6e-slice", "4x4", 4));
  EXPECT_EQ(names_of(filter(member).passed), (std::vector<std::string>{"mine-3"}));
  EXPECT_EQ(as_map(filter(stranger).failed)["mine-0"], "slice mine is reserved by Job default/train");
}

TEST(WorkerHostnames, PodDnsNamesWithASubdomainNodeNamesOnTheHostNetwork) {
  auto pod = value_of(parse_pod(pod_json(job_worker("train", 1, "tpu-v6e-slice", "4x4", 4))));
  std::vector<std::string> nodes{"n-0", "n-1"};
  EXPECT_EQ(worker_hostnames(pod, nodes), (std::vector<std::string>{"train-0.train", "train-1.train"}));
  pod.host_network = true;
  EXPECT_EQ(worker_hostnames(pod, nodes), nodes);
}

TEST_F(Placement, V5pTwoHostSliceLeaderOnHostZeroFollowerOnHostOne) {
  add_slice(state, "p", "tpu-v5p-slice", "2x2x2", 2, 4);
  auto leader = add(job_worker("j", 0, "tpu-v5p-slice", "2x2x2", 4));
  auto follower = add(job_worker("j", 1, "tpu-v5p-slice", "2x2x2", 4));
  EXPECT_EQ(names_of(filter(leader).passed), (std::vector<std::string>{"p-0"}));
  EXPECT_NE(bind(leader, "p-1"), "");  // a scheduler that picks host 1 anyway is refused at bind
  ASSERT_EQ(bind(leader, "p-0"), "");
  EXPECT_EQ(names_of(filter(follower).passed), (std::vector<std::string>{"p-1"}));
}

TEST_F(Placement, SingleHostPodsBinPackAndNeverTakeAReservedSlice) {
  add_slice(state, "big", "tpu-v6e-slice", "2x4", 2, 8);  // two ct6e-standard-8t, one slice each
  add(single_pod("half", "tpu-v6e-slice", "2x4", 4, "big-1"));
  auto pod = add(single_pod("new", "tpu-v6e-slice", "2x4", 4, ""));
  auto scores = prioritize_nodes(analyze_pod(pod, state.index()), state.index(), {"big-0", "big-1"});
  EXPECT_LT(scores[0].score, scores[1].score);  // the half-used host first

  add_slice(state, "gang", "tpu-v6e-slice", "4x4", 4, 4);
  auto leader = add(job_worker("g", 0, "tpu-v6e-slice", "4x4", 4));
  ASSERT_EQ(bind(leader, "gang-0"), "");
  auto loose = add(single_pod("loose", "tpu-v6e-slice", "", 1, ""));
  auto failed = as_map(filter(loose).failed);
  EXPECT_EQ(failed["gang-1"], "slice gang is reserved by Job default/g");
}

TEST_F(Placement, RacingGroupsForOneSliceExactlyOneWinsTheOtherWaitsThenGetsIt) {
  add_slice(state, "only", "tpu-v6e-slice", "4x4", 4, 4);
  std::vector<TpuPod> first, second;
  for (int i = 0; i < 4; ++i) {
    first.push_back(add(job_worker("first", i, "tpu-v6e-slice", "4x4", 4)));
    second.push_back(add(job_worker("second", i, "tpu-v6e-slice", "4x4", 4)));
  }
  // Both leaders pass filter before either binds; the second bind is refused.
  ASSERT_FALSE(filter(first[0]).passed.empty());
  ASSERT_FALSE(filter(second[0]).passed.empty());
  EXPECT_EQ(bind(first[0], "only-0"), "");
  EXPECT_EQ(bind(second[0], "only-0"),
            "cannot bind default/second-0-x7k2p to only-0: slice only is reserved by Job default/first");
  EXPECT_EQ(as_map(filter(second[0]).failed)["only-1"], "slice only is reserved by Job default/first");
  for (int i = 1; i < 4; ++i) EXPECT_EQ(bind(first[i], "only-" + std::to_string(i)), "");

  for (const auto& pod : first) state.remove_pod(pod.key());
  EXPECT_EQ(bind(second[0], "only-0"), "");
}

TEST_F(Placement, ReservationsAreRebuiltFromBoundPodsAndAnnotationsAfterARestart) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  std::vector<TpuPod> pods;
  for (int i = 0; i < 4; ++i) pods.push_back(add(job_worker("train", i, "tpu-v6e-slice", "4x4", 4)));
  ASSERT_EQ(bind(pods[0], "a-0"), "");
  ASSERT_EQ(bind(pods[1], "a-1"), "");

  // A fresh extender sees the same Nodes and the Pods as the API server holds them after those binds.
  ClusterState restarted;
  add_slice(restarted, "a", "tpu-v6e-slice", "4x4", 4, 4);
  for (int i = 0; i < 4; ++i) {
    auto fields = job_worker("train", i, "tpu-v6e-slice", "4x4", 4);
    if (const auto* known = state.find_pod(pods[i].key()); known->placement) {
      fields.node = known->node_name;
      auto annotations = placement_annotations(*known->placement);
      fields.annotations.assign(annotations.begin(), annotations.end());
    }
    restarted.upsert_pod(value_of(parse_pod(pod_json(fields))));
  }
  const auto& index = restarted.index();
  auto restarted_names = node_names(restarted);
  EXPECT_EQ(index.slices()[0].holder, "default/job:train");
  EXPECT_EQ(index.group("default/job:train")->worker_nodes, state.index().group("default/job:train")->worker_nodes);
  auto request = analyze_pod(pods[2], index);
  EXPECT_EQ(names_of(filter_nodes(request, index, restarted_names).passed), (std::vector<std::string>{"a-2"}));
  auto intruder = value_of(parse_pod(pod_json(job_worker("other", 0, "tpu-v6e-slice", "4x4", 4))));
  restarted.upsert_pod(intruder);
  EXPECT_TRUE(
      filter_nodes(analyze_pod(intruder, restarted.index()), restarted.index(), restarted_names).passed.empty());
}

TEST_F(Placement, GroupsThatCannotFitAnySliceSayWhy) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  auto alone = add(single_pod("alone", "tpu-v6e-slice", "4x4", 4, ""));
  EXPECT_NE(as_map(filter(alone).unresolvable)["a-0"].find("must form a group"), std::string::npos);

  auto sized = job_worker("sized", 0, "tpu-v6e-slice", "4x4", 4);
  sized.labels = {{std::string(names::kGroupLabel), "sized"},
                  {std::string(names::kGroupSizeLabel), "2"},
                  {std::string(names::kCompletionIndex), "0"}};
  EXPECT_EQ(as_map(filter(add(sized)).unresolvable)["a-0"],
            "group default/sized declares 2 pods but tpu-v6e-slice 4x4 (4 hosts of 4 chips) needs 4");

  auto odd = add(job_worker("odd", 0, "tpu-v6e-slice", "4x4", 3));
  EXPECT_NE(as_map(filter(odd).unresolvable)["a-0"].find("with 3 chips per pod"), std::string::npos);

  for (int i = 0; i < 4; ++i) add(job_worker("many", i, "tpu-v6e-slice", "4x4", 4));
  auto extra = job_worker("many", 1, "tpu-v6e-slice", "4x4", 4);
  extra.name = "many-extra";
  EXPECT_EQ(as_map(filter(add(extra)).unresolvable)["a-0"],
            "Job default/many has 5 pods but tpu-v6e-slice 4x4 (4 hosts of 4 chips) has 4 hosts");
}

TEST_F(Placement, SliceWithAMissingOrUnreadyHostIsBusyForLeaders) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 3, 4);
  auto leader = add(job_worker("j", 0, "tpu-v6e-slice", "4x4", 4));
  EXPECT_EQ(as_map(filter(leader).failed)["a-0"], "slice a has 3 of 4 hosts");
  auto node = value_of(parse_node(testing::node_json("a-3", "tpu-v6e-slice", "4x4", "a", 4)));
  node.ready = false;
  state.upsert_node(node);
  EXPECT_EQ(as_map(filter(leader).failed)["a-0"], "host a-3 of slice a is not Ready");
}

// A pool a killed provisioner left half-made is its group's, but no member binds there: TPU_WORKER_HOSTNAMES
// would name only the hosts that exist, and the pool is deleted and made again under the bound pod.
TEST_F(Placement, AGroupsOwnPoolMissingAHostTakesNoMemberUntilItIsWhole) {
  add_slice(state, "mine", "tpu-v6e-slice", "4x4", 3, 4);
  for (const auto& name : node_names(state)) {
    TpuNode labelled = state.nodes().at(name);
    labelled.created_for = "default/train";
    state.upsert_node(labelled);
  }
  auto leader = add(job_worker("train", 0, "tpu-v6e-slice", "4x4", 4));
  EXPECT_TRUE(filter(leader).passed.empty());
  EXPECT_EQ(as_map(filter(leader).failed)["mine-0"], "slice mine of Job default/train has 3 of 4 hosts");
  EXPECT_EQ(bind(leader, "mine-0"),
            "cannot bind default/train-0-x7k2p to mine-0: slice mine of Job default/train has 3 of 4 hosts");

  TpuNode last = value_of(parse_node(testing::node_json("mine-3", "tpu-v6e-slice", "4x4", "mine", 4)));
  last.created_for = "default/train";
  state.upsert_node(last);
  EXPECT_EQ(names_of(filter(leader).passed), (std::vector<std::string>{"mine-0"}));
  auto placement = assume_bind(state, leader, "mine-0");
  ASSERT_TRUE(placement);
  EXPECT_EQ(placement->worker_hostnames.size(), 4u);
}

TEST_F(Placement, PreemptionKeepsNodesOnlyWhenTheVictimsFreeTheWholeSlice) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  auto v1 = add(single_pod("v1", "tpu-v6e-slice", "", 4, "a-0"));
  auto v2 = add(single_pod("v2", "tpu-v6e-slice", "", 4, "a-1"));
  auto leader = add(job_worker("j", 0, "tpu-v6e-slice", "4x4", 4));
  auto kept = select_preemption(state, leader, {{"a-0", {v1.uid, v2.uid}}, {"a-1", {v2.uid}}});
  EXPECT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.count("a-0"), 1u);
}

}  // namespace
}  // namespace tpustack::extender
