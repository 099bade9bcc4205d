#include "extender/provisioning/cluster_facts.h"

#include <gtest/gtest.h>

#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using testing::PodBuilder;

TEST(GroupOf, JobSetWorkerIsGroupedByItsChildJobAndOwnedByTheJobSet) {
  auto group = group_of(PodBuilder{}.build());
  ASSERT_TRUE(group);
  EXPECT_EQ(group->owner_kind, OwnerKind::kJobSet);
  EXPECT_EQ(group->owner, "train");
  EXPECT_EQ(group->group, "train-workers-0");
  EXPECT_EQ(group->ns, "default");
  EXPECT_TRUE(group->leader());
}

TEST(GroupOf, IndexedJobAndExplicitLabels) {
  PodBuilder job;
  job.jobset = "";
  job.job = "solo";
  job.index = 2;
  auto group = group_of(job.build());
  ASSERT_TRUE(group);
  EXPECT_EQ(group->owner_kind, OwnerKind::kJob);
  EXPECT_EQ(group->owner, "solo");
  EXPECT_EQ(group->index, 2);
  EXPECT_FALSE(group->leader());

  PodBuilder labelled;
  labelled.group_label = "mygroup";
  group = group_of(labelled.build());
  ASSERT_TRUE(group);
  EXPECT_EQ(group->owner_kind, OwnerKind::kPods);
  EXPECT_EQ(group->group, "mygroup");
}

TEST(GroupOf, APlainPodIsInNoGroup) {
  nlohmann::json pod = {{"metadata", {{"name", "p"}, {"namespace", "x"}}}};
  EXPECT_FALSE(group_of(pod));
}

TEST(WorkloadOf, TheControllerOwnerElseThePodItself) {
  PodBuilder replica;
  replica.jobset = replica.job = "";
  replica.owner_kind = "ReplicaSet";
  replica.owner_name = "infer-7d9f8c6b5";
  EXPECT_EQ(workload_of(replica.build()), (Workload{"ReplicaSet", "default", "infer-7d9f8c6b5"}));
  EXPECT_EQ(workload_of(PodBuilder{}.build()), (Workload{"Job", "default", "train-workers-0"}));

  nlohmann::json bare = {{"metadata",
                          {{"name", "p"},
                           {"namespace", "x"},
                           {"ownerReferences", {{{"kind", "Node"}, {"name", "n1"}, {"controller", false}}}}}}};
  EXPECT_EQ(workload_of(bare), (Workload{"Pod", "x", "p"}));
}

TEST(PodFacts, ReadsRequestsSelectorsConditionsAndOptOut) {
  PodBuilder builder;
  builder.chips = 8;
  auto pod = builder.build();
  pod["metadata"]["annotations"]["tpu-provisioner.cloud.google.com/disable-autoprovisioning"] = "true";
  PodFacts facts = pod_facts(pod);
  EXPECT_EQ(facts.tpu_chips, 8);
  EXPECT_TRUE(facts.unschedulable);
  EXPECT_TRUE(facts.opted_out);
  EXPECT_EQ(facts.node_selector.at("cloud.google.com/gke-tpu-topology"), "4x4");
  EXPECT_EQ(facts.reference["kind"], "Pod");
  EXPECT_EQ(facts.reference["metadata"]["uid"], "uid-train-workers-0-0");
}

TEST(PodFacts, LimitsAloneCountAndOtherConditionsDoNot) {
  nlohmann::json pod = {
      {"metadata", {{"name", "p"}}},
      {"spec", {{"containers", {{{"resources", {{"limits", {{"google.com/tpu", 4}}}}}}}}}},
      {"status",
       {{"phase", "Pending"},
        {"conditions", {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "SchedulingGated"}}}}}}};
  PodFacts facts = pod_facts(pod);
  EXPECT_EQ(facts.tpu_chips, 4);
  EXPECT_FALSE(facts.unschedulable);
  EXPECT_EQ(facts.ns, "default");
}

TEST(NodeFacts, ReadyAndLabels) {
  nlohmann::json node = {{"metadata", {{"name", "n1"}, {"labels", {{"cloud.google.com/gke-nodepool", "pool"}}}}},
                         {"spec", {{"unschedulable", true}}},
                         {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  NodeFacts facts = node_facts(node);
  EXPECT_TRUE(facts.ready);
  EXPECT_TRUE(facts.unschedulable);
  EXPECT_EQ(facts.label("cloud.google.com/gke-nodepool"), "pool");
  EXPECT_EQ(facts.label("missing"), "");
}

TEST(NodeFacts, MalformedConditionsReadAsNotReadyInsteadOfThrowing) {
  // A condition list with a number in it used to throw nlohmann's type_error out of node_facts.
  nlohmann::json node = {{"metadata", {{"name", "n1"}}},
                         {"status", {{"conditions", {1, "a", {{"type", "Ready"}, {"status", true}}}}}}};
  EXPECT_FALSE(node_facts(node).ready);
  node["status"]["conditions"].push_back({{"type", "Ready"}, {"status", "True"}});
  EXPECT_TRUE(node_facts(node).ready);
  EXPECT_FALSE(has_condition({{"status", "Ready"}}, "Ready", "True"));
  EXPECT_TRUE(has_condition(
      {{"status", {{"conditions", {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}}}}}},
      "PodScheduled", "False", "Unschedulable"));
  EXPECT_FALSE(has_condition({{"status", {{"conditions", {{{"type", "PodScheduled"}, {"status", "False"}}}}}}},
                             "PodScheduled", "False", "Unschedulable"));
}

}  // namespace
}  // namespace tpustack::provisioning
