#include <gtest/gtest.h>

#include "extender/model/cluster_state.h"
#include "extender/model/kube_names.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::extender {
namespace {

using testing::add_slice;
using testing::job_worker;
using testing::node_json;
using testing::pod_json;
using testing::PodFields;
using testing::single_pod;
using tpustack::testing::value_of;

TEST(TpuNode, ReadsLabelsChipsReadinessAndTaints) {
  auto node = value_of(parse_node(node_json("gke-a-1", "tpu-v6e-slice", "4x4", "pool-a", 4)));
  EXPECT_EQ(node.accelerator, "tpu-v6e-slice");
  EXPECT_EQ(node.topology, "4x4");
  EXPECT_EQ(node.pool, "pool-a");
  EXPECT_EQ(node.allocatable_chips, 4);
  EXPECT_TRUE(node.ready);
  ASSERT_EQ(node.taints.size(), 1u);
  EXPECT_EQ(node.taints[0].key, "google.com/tpu");
  EXPECT_EQ(node.created_for, "");
}

TEST(TpuNode, APoolTheProvisionerCreatedSaysForWhichGroup) {
  auto json = node_json("gke-a-1", "tpu-v6e-slice", "4x4", "pool-a", 4);
  json["metadata"]["labels"][std::string(names::kGroupLabel)] = "train-workers-0";
  json["metadata"]["labels"][std::string(names::kGroupNamespaceLabel)] = "ml";
  EXPECT_EQ(value_of(parse_node(json)).created_for, "ml/train-workers-0");
  // The pod side names the same pool owner: the child Job's name in the pod's namespace.
  auto member = value_of(parse_pod(pod_json(job_worker("train-workers-0", 1, "tpu-v6e-slice", "4x4", 4))));
  EXPECT_EQ(member.group->pool_owner, "default/train-workers-0");
}

TEST(TpuNode, WithoutPoolLabelIsItsOwnPoolAndBadQuantityIsAnError) {
  auto json = node_json("n1", "tpu-v6e-slice", "2x4", "p", 8);
  json["metadata"]["labels"].erase(std::string(names::kNodePoolLabel));
  EXPECT_EQ(value_of(parse_node(json)).pool, "n1");
  json["status"]["allocatable"][std::string(names::kTpuResource)] = "four";
  EXPECT_FALSE(parse_node(json).ok());
  EXPECT_FALSE(parse_node(nlohmann::json::array()).ok());
}

TEST(TpuPod, ReadsRequestSelectorGroupAndPlacement) {
  auto fields = job_worker("train", 2, "tpu-v6e-slice", "4x4", 4);
  fields.annotations = {{std::string(names::kSliceAnnotation), "pool-a"},
                        {std::string(names::kWorkerIdAnnotation), "2"},
                        {std::string(names::kWorkerHostnamesAnnotation), "a,b,c,d"}};
  auto pod = value_of(parse_pod(pod_json(fields)));
  EXPECT_EQ(pod.chips, 4);
  EXPECT_EQ(pod.accelerator, "tpu-v6e-slice");
  ASSERT_TRUE(pod.group);
  EXPECT_EQ(pod.group->key, "default/job:train");
  EXPECT_EQ(pod.group->index, 2);
  ASSERT_TRUE(pod.placement);
  EXPECT_EQ(pod.placement->worker_id, 2);
  EXPECT_EQ(pod.placement->worker_hostnames, (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(PodGroup, RecognisesJobSetIndexedJobAndOurLabels) {
  StringMap jobset = {{std::string(names::kJobSetJobKey), "3f2a"},
                      {std::string(names::kJobName), "js-slice-0"},
                      {std::string(names::kCompletionIndex), "0"}};
  auto member = group_member("ml", jobset, {});
  ASSERT_TRUE(member);
  EXPECT_EQ(member->key, "ml/jobset-job:3f2a");
  EXPECT_TRUE(member->leader());

  StringMap ours = {{std::string(names::kGroupLabel), "g"},
                    {std::string(names::kGroupSizeLabel), "4"},
                    {std::string(names::kStatefulSetPodIndex), "3"}};
  member = group_member("ml", ours, {});
  ASSERT_TRUE(member);
  EXPECT_EQ(member->declared_size, 4);
  EXPECT_EQ(member->index, 3);

  StringMap no_index = {{std::string(names::kGroupLabel), "g"}};
  member = group_member("ml", no_index, {});
  ASSERT_TRUE(member);
  ASSERT_TRUE(member->problem);
  EXPECT_NE(member->problem->find("no worker index"), std::string::npos) << *member->problem;

  StringMap index_by_annotation = {{std::string(names::kCompletionIndex), "1"}};
  member = group_member("ml", {{std::string(names::kJobName), "j"}}, index_by_annotation);
  ASSERT_TRUE(member);
  EXPECT_EQ(member->index, 1);
  EXPECT_FALSE(group_member("ml", {{"app", "web"}}, {}));
}

TEST(SliceIndex, MultiHostPoolIsOneSliceSingleHostPoolIsOneSlicePerNode) {
  ClusterState state;
  add_slice(state, "v6e-16", "tpu-v6e-slice", "4x4", 4, 4);
  add_slice(state, "v6e-8", "tpu-v6e-slice", "2x4", 3, 8);  // three 8-chip VMs, one slice each
  const auto& index = state.index();
  ASSERT_EQ(index.slices().size(), 4u);
  auto where = index.locate("v6e-16-2");
  ASSERT_GE(where.slice, 0);
  const Slice& slice = index.slices()[where.slice];
  EXPECT_EQ(slice.name, "v6e-16");
  EXPECT_EQ(where.host, 2);
  EXPECT_TRUE(slice.complete());
  EXPECT_EQ(index.slices()[index.locate("v6e-8-1").slice].name, "v6e-8-1");
}

TEST(SliceIndex, CountsChipsOfActivePodsOnly) {
  ClusterState state;
  add_slice(state, "p", "tpu-v6e-slice", "2x4", 1, 8);
  auto running = single_pod("a", "tpu-v6e-slice", "", 4, "p-0");
  auto done = single_pod("b", "tpu-v6e-slice", "", 4, "p-0");
  state.upsert_pod(value_of(parse_pod(pod_json(running))));
  done.phase = "Succeeded";
  state.upsert_pod(value_of(parse_pod(pod_json(done))));
  EXPECT_EQ(state.index().slices()[0].hosts[0].free(), 4);
}

TEST(SliceIndex, GroupHoldsTheSliceItsBoundPodsAreOn) {
  ClusterState state;
  add_slice(state, "a", "tpu-v5-lite-podslice", "4x4", 4, 4);
  auto leader = job_worker("train", 0, "tpu-v5-lite-podslice", "4x4", 4);
  leader.node = "a-2";
  state.upsert_pod(value_of(parse_pod(pod_json(leader))));
  state.upsert_pod(value_of(parse_pod(pod_json(job_worker("train", 1, "tpu-v5-lite-podslice", "4x4", 4)))));
  const auto& index = state.index();
  EXPECT_EQ(index.slices()[0].holder, "default/job:train");
  const auto* group = index.group("default/job:train");
  ASSERT_TRUE(group);
  EXPECT_EQ(group->active_pods, 2);
  // The leader landed on host 2, so it is worker 0 and the others follow in host order.
  EXPECT_EQ(group->worker_nodes, (std::vector<std::string>{"a-2", "a-0", "a-1", "a-3"}));
}

TEST(ClusterState, AssumedBindHoldsUntilTheApiServerShowsItOrItIsForgotten) {
  ClusterState state;
  add_slice(state, "a", "tpu-v5p-slice", "2x2x2", 2, 4);
  auto leader = job_worker("j", 0, "tpu-v5p-slice", "2x2x2", 4);
  state.upsert_pod(value_of(parse_pod(pod_json(leader))));
  state.assume_bound("default/" + leader.name, "a-0", Placement{"a", 0, {"j-0.j", "j-1.j"}});
  EXPECT_EQ(state.index().slices()[0].holder, "default/job:j");
  // A stale update without nodeName does not undo the assumption.
  state.upsert_pod(value_of(parse_pod(pod_json(leader))));
  EXPECT_EQ(state.index().slices()[0].holder, "default/job:j");
  state.forget("default/" + leader.name);
  EXPECT_EQ(state.index().slices()[0].holder, "");
}

}  // namespace
}  // namespace tpustack::extender
