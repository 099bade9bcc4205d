#include "extender/provisioning/provisioning_plan.h"

#include <gtest/gtest.h>

#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using namespace std::chrono_literals;
using testing::PodBuilder;

const Clock::time_point kNow = Clock::time_point{} + 1h;

PlanSettings no_grace() {
  PlanSettings settings;
  settings.deletion_grace = 0s;
  return settings;
}
const PlanSettings kNoGrace = no_grace();

PodFacts leader(const std::string& jobset = "train") {
  PodBuilder builder;
  builder.jobset = jobset;
  builder.job = jobset + "-workers-0";
  builder.name = jobset + "-workers-0-0";
  return pod_facts(builder.build());
}

PoolState our_pool(const PodFacts& pod, PoolStatus status = PoolStatus::kRunning, int nodes = 0) {
  PoolSpec spec = build_pool_spec(pod, {}).value();
  if (nodes > 0) spec.node_count = nodes;
  return {spec.name, status, "", spec.labels, spec.node_count, spec.chips()};
}

NodeFacts node(const std::string& name, const std::string& pool, const std::string& topology = "4x4") {
  return {name,
          {{std::string(kNodePoolLabel), pool},
           {std::string(kAcceleratorLabel), "tpu-v6e-slice"},
           {std::string(kTopologyLabel), topology}},
          true,
          false};
}

TEST(TriggerBlocker, OnlyUnschedulableTpuLeadersWithSelectorsTrigger) {
  EXPECT_EQ(trigger_blocker(leader()), std::nullopt);
  PodBuilder follower;
  follower.index = 1;
  EXPECT_EQ(trigger_blocker(pod_facts(follower.build())), "not the leader of its group");
  PodBuilder scheduling;
  scheduling.unschedulable = false;
  EXPECT_TRUE(trigger_blocker(pod_facts(scheduling.build())));
  PodBuilder no_tpu;
  no_tpu.chips = 0;
  EXPECT_TRUE(trigger_blocker(pod_facts(no_tpu.build())));
  PodBuilder no_selector;
  no_selector.accelerator = "";
  EXPECT_TRUE(trigger_blocker(pod_facts(no_selector.build())));
  PodFacts opted = leader();
  opted.opted_out = true;
  EXPECT_EQ(trigger_blocker(opted), "opted out of provisioning");
  PodFacts deleting = leader();
  deleting.deleting = true;
  EXPECT_TRUE(trigger_blocker(deleting));
}

TEST(WakesProvisioner, OnlyTpuPodsThatAskForCapacityOrHaveEnded) {
  EXPECT_TRUE(wakes_provisioner(leader()));
  PodBuilder finished;
  finished.phase = "Succeeded";
  finished.unschedulable = false;
  EXPECT_TRUE(wakes_provisioner(pod_facts(finished.build())));  // its group's pool may go
  PodBuilder follower;
  follower.index = 1;
  EXPECT_FALSE(wakes_provisioner(pod_facts(follower.build())));
  PodBuilder running;
  running.phase = "Running";
  running.unschedulable = false;
  running.node_name = "n";
  EXPECT_FALSE(wakes_provisioner(pod_facts(running.build())));
  PodBuilder web;
  web.chips = 0;
  web.phase = "Failed";
  EXPECT_FALSE(wakes_provisioner(pod_facts(web.build())));
}

TEST(Plan, CreatesOnePoolPerWaitingLeader) {
  ClusterSnapshot snapshot;
  snapshot.pods = {leader("a"), leader("b")};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 2u);
  EXPECT_EQ(plan.creates[0].pod.name, "a-workers-0-0");
  EXPECT_TRUE(plan.deletes.empty());
}

TEST(Plan, ALeaderWhoseOwnerIsDoneGetsNoPool) {
  ClusterSnapshot snapshot;
  snapshot.pods = {leader()};
  snapshot.owners[owner_key(OwnerKind::kJobSet, "default", "train")] = OwnerState::kGone;
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).creates.empty());
  snapshot.owners[owner_key(OwnerKind::kJobSet, "default", "train")] = OwnerState::kActive;
  EXPECT_EQ(plan_provisioning(snapshot, {}, kNow, {}).creates.size(), 1u);
}

TEST(Plan, AnExistingOrBusyPoolIsNeverCreatedAgain) {
  ClusterSnapshot snapshot;
  snapshot.pods = {leader()};
  snapshot.pools = {our_pool(leader(), PoolStatus::kProvisioning)};
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).creates.empty());
  snapshot.pools.clear();
  snapshot.busy_pools = {build_pool_spec(leader(), {}).value().name};
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).creates.empty());
}

TEST(Plan, AFreeUnownedSliceOfTheSameShapeMeansWait) {
  ClusterSnapshot snapshot;
  snapshot.pods = {leader()};
  for (int i = 0; i < 4; ++i) snapshot.nodes.push_back(node("n" + std::to_string(i), "static"));
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).creates.empty());

  PodBuilder busy;
  busy.name = "other";
  busy.jobset = "other";
  busy.phase = "Running";
  busy.unschedulable = false;
  busy.node_name = "n2";
  snapshot.pods.push_back(pod_facts(busy.build()));
  EXPECT_EQ(plan_provisioning(snapshot, {}, kNow, {}).creates.size(), 1u);
}

TEST(Plan, CapsCleanupOnlyAndBackoffHoldCreatesBack) {
  ClusterSnapshot snapshot;
  snapshot.pods = {leader("a"), leader("b")};
  PlanSettings settings;
  settings.max_pools = 1;
  auto plan = plan_provisioning(snapshot, settings, kNow, {});
  EXPECT_EQ(plan.creates.size(), 1u);
  ASSERT_EQ(plan.blocked.size(), 1u);
  EXPECT_NE(plan.blocked[0].reason.find("cap of 1"), std::string::npos);

  settings = {};
  settings.max_chips = 20;
  EXPECT_EQ(plan_provisioning(snapshot, settings, kNow, {}).creates.size(), 1u);

  settings = {};
  settings.cleanup_only = true;
  plan = plan_provisioning(snapshot, settings, kNow, {});
  EXPECT_TRUE(plan.creates.empty());
  EXPECT_EQ(plan.blocked.size(), 2u);

  snapshot.retry_not_before[build_pool_spec(leader("a"), {}).value().name] = kNow + 1s;
  plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(plan.creates[0].pod.name, "b-workers-0-0");
}

TEST(Plan, ImpossibleShapesAreBlockedAsErrors) {
  PodBuilder bad;
  bad.topology = "3x5";
  ClusterSnapshot snapshot;
  snapshot.pods = {pod_facts(bad.build())};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.blocked.size(), 1u);
  EXPECT_TRUE(plan.blocked[0].error);
}

TEST(Plan, DeletesAfterTheGracePeriodOnceTheOwnerIsDone) {
  ClusterSnapshot snapshot;
  PoolState pool = our_pool(leader());
  snapshot.pools = {pool};
  snapshot.owners[owner_key(OwnerKind::kJobSet, "default", "train")] = OwnerState::kFinished;
  PlanSettings settings;
  settings.deletion_grace = 30s;

  auto first = plan_provisioning(snapshot, settings, kNow, {});
  EXPECT_TRUE(first.deletes.empty());
  EXPECT_EQ(first.surplus_since.at(pool.name), kNow);

  auto later = plan_provisioning(snapshot, settings, kNow + 31s, first.surplus_since);
  ASSERT_EQ(later.deletes.size(), 1u);
  EXPECT_EQ(later.deletes[0].pool, pool.name);
  EXPECT_NE(later.deletes[0].reason.find("JobSet default/train has finished"), std::string::npos);

  // A JobSet that comes back within the grace period keeps its pool and resets the clock.
  snapshot.owners[owner_key(OwnerKind::kJobSet, "default", "train")] = OwnerState::kActive;
  auto back = plan_provisioning(snapshot, settings, kNow + 31s, first.surplus_since);
  EXPECT_TRUE(back.deletes.empty());
  EXPECT_TRUE(back.surplus_since.empty());
}

TEST(Plan, UnknownOwnersAndForeignPoolsAreKept) {
  ClusterSnapshot snapshot;
  snapshot.pools = {our_pool(leader()), PoolState{"default-pool", PoolStatus::kError, "", {}, 3, 0}};
  auto plan = plan_provisioning(snapshot, kNoGrace, kNow, {});
  EXPECT_TRUE(plan.deletes.empty());
}

TEST(Plan, ErrorPoolsAndOrphansAreCollected) {
  ClusterSnapshot snapshot;
  PoolState broken = our_pool(leader("a"), PoolStatus::kError);
  PoolState orphan{"tpu-orphan", PoolStatus::kRunning, "", {{kManagedByLabel, kManagedByValue}}, 1, 4};
  snapshot.pools = {broken, orphan};
  auto plan = plan_provisioning(snapshot, kNoGrace, kNow, {});
  ASSERT_EQ(plan.deletes.size(), 2u);
  EXPECT_EQ(plan.deletes[0].pool, broken.name);
  EXPECT_NE(plan.deletes[1].reason.find("orphan"), std::string::npos);
}

TEST(Plan, PodsOwnedGroupsEndWhenTheirPodsTerminate) {
  PodBuilder builder;
  builder.group_label = "g";
  builder.phase = "Running";
  builder.unschedulable = false;
  PodFacts running = pod_facts(builder.build());
  PodBuilder leader_builder = builder;
  leader_builder.phase = "Pending";
  leader_builder.unschedulable = true;
  ClusterSnapshot snapshot;
  snapshot.pools = {our_pool(pod_facts(leader_builder.build()))};
  snapshot.pods = {running};
  EXPECT_TRUE(plan_provisioning(snapshot, kNoGrace, kNow, {}).deletes.empty());
  snapshot.pods[0].phase = "Succeeded";
  EXPECT_EQ(plan_provisioning(snapshot, kNoGrace, kNow, {}).deletes.size(), 1u);
}

TEST(Plan, AnIdlePoolOfAnotherShapeIsReplaced) {
  ClusterSnapshot snapshot;
  snapshot.pods = {leader()};
  PoolState pool = our_pool(leader());
  pool.labels[kSpecHashLabel] = "00000000";
  snapshot.pools = {pool};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  EXPECT_TRUE(plan.creates.empty());
  ASSERT_EQ(plan.deletes.size(), 1u);
  EXPECT_EQ(plan.deletes[0].pool, pool.name);
}

// Single-host pods of one workload, each of them Unschedulable unless bound.
PodFacts replica(const std::string& owner_kind, const std::string& owner, int index,
                 const std::string& accelerator = "tpu-v5-lite-podslice", const std::string& topology = "2x2",
                 int chips = 4) {
  PodBuilder builder;
  builder.jobset = builder.job = "";
  builder.owner_kind = owner_kind;
  builder.owner_name = owner;
  builder.name = owner.empty() ? "lone-" + std::to_string(index) : owner + "-" + std::to_string(index);
  builder.index = index;
  builder.accelerator = accelerator;
  builder.topology = topology;
  builder.chips = chips;
  return pod_facts(builder.build());
}

PodFacts bound(PodFacts pod, const std::string& node) {
  pod.node_name = node;
  pod.phase = "Running";
  pod.unschedulable = false;
  return pod;
}

// The nodes a pool of `spec`'s shape registers, named "<pool>-<i>".
std::vector<NodeFacts> pool_nodes(const PoolState& pool, int count) {
  std::vector<NodeFacts> nodes;
  for (int i = 0; i < count; ++i) {
    NodeFacts node{pool.name + "-" + std::to_string(i), pool.labels, true, false};
    node.labels[std::string(kNodePoolLabel)] = pool.name;
    nodes.push_back(node);
  }
  return nodes;
}

TEST(WorkloadPlan, AStatefulSetOfThreeV5eReplicasGetsOnePoolOfThreeHosts) {
  ClusterSnapshot snapshot;
  for (int i = 0; i < 3; ++i) snapshot.pods.push_back(replica("StatefulSet", "web", i));
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 1u);
  const PoolSpec& spec = plan.creates[0].spec;
  EXPECT_EQ(spec.slice.machine_type(), "ct5lp-hightpu-4t");
  EXPECT_EQ(spec.node_count, 3);
  EXPECT_EQ(spec.labels.at(kOwnerKindLabel), "StatefulSet");
  EXPECT_EQ(plan.creates[0].pod.name, "web-0");
}

TEST(WorkloadPlan, ABareEightChipV6ePodGetsOneEightChipHost) {
  ClusterSnapshot snapshot;
  snapshot.pods = {replica("", "", 0, "tpu-v6e-slice", "2x4", 8)};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(plan.creates[0].spec.slice.machine_type(), "ct6e-standard-8t");
  EXPECT_EQ(plan.creates[0].spec.node_count, 1);
  EXPECT_EQ(plan.creates[0].spec.labels.at(kOwnerKindLabel), "Pod");
}

TEST(WorkloadPlan, PodsSharingHostsAreSizedByChips) {
  ClusterSnapshot snapshot;
  for (int i = 0; i < 5; ++i)
    snapshot.pods.push_back(replica("ReplicaSet", "infer-7d9f8", i, "tpu-v5-lite-podslice", "2x2", 1));
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(plan.creates[0].spec.node_count, 2);  // 5 chips on 4-chip hosts
}

TEST(WorkloadPlan, SingleHostWorkersOfAnIndexedJobShareTheJobsPool) {
  ClusterSnapshot snapshot;
  for (int i = 0; i < 3; ++i) {
    PodBuilder worker;
    worker.jobset = "";
    worker.job = "sweep";
    worker.name = "sweep-" + std::to_string(i);
    worker.index = i;
    worker.topology = "2x4";
    worker.chips = 8;
    snapshot.pods.push_back(pod_facts(worker.build()));
  }
  EXPECT_EQ(trigger_blocker(snapshot.pods[2]), std::nullopt);  // not a leader, but it needs a host of its own
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(plan.creates[0].spec.node_count, 3);
  EXPECT_EQ(plan.creates[0].spec.labels.at(kOwnerKindLabel), "Job");
}

TEST(WorkloadPlan, MoreReplicasGrowThePoolAtOnce) {
  ClusterSnapshot snapshot;
  PoolState pool = our_pool(replica("StatefulSet", "web", 0), PoolStatus::kRunning, 3);
  snapshot.pools = {pool};
  snapshot.nodes = pool_nodes(pool, 3);
  for (int i = 0; i < 3; ++i) snapshot.pods.push_back(bound(replica("StatefulSet", "web", i), snapshot.nodes[i].name));
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).resizes.empty());

  snapshot.pods.push_back(replica("StatefulSet", "web", 3));
  snapshot.pods.push_back(replica("StatefulSet", "web", 4));
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  EXPECT_TRUE(plan.creates.empty());
  ASSERT_EQ(plan.resizes.size(), 1u);
  EXPECT_EQ(plan.resizes[0].pool, pool.name);
  EXPECT_EQ(plan.resizes[0].from, 3);
  EXPECT_EQ(plan.resizes[0].to, 5);

  // Asked for, not registered yet: asked once, not again.
  snapshot.asked_nodes[pool.name] = 5;
  plan = plan_provisioning(snapshot, {}, kNow, {});
  EXPECT_TRUE(plan.resizes.empty());
  EXPECT_EQ(plan.asked_nodes.at(pool.name), 5);
  snapshot.nodes = pool_nodes(pool, 5);
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).asked_nodes.empty());

  PlanSettings capped;
  capped.max_chips = 16;
  snapshot.asked_nodes.clear();
  snapshot.nodes = pool_nodes(pool, 3);
  plan = plan_provisioning(snapshot, capped, kNow, {});
  EXPECT_TRUE(plan.resizes.empty());
  ASSERT_EQ(plan.blocked.size(), 1u);
  EXPECT_NE(plan.blocked[0].reason.find("cap of 16 provisioned chips"), std::string::npos);
}

TEST(WorkloadPlan, AShrunkWorkloadsPoolShrinksAfterTheGracePeriodNeverBelowTheNodesInUse) {
  ClusterSnapshot snapshot;
  PoolState pool = our_pool(replica("StatefulSet", "web", 0), PoolStatus::kRunning, 3);
  snapshot.pools = {pool};
  snapshot.nodes = pool_nodes(pool, 3);
  snapshot.pods = {bound(replica("StatefulSet", "web", 0), snapshot.nodes[2].name)};
  PlanSettings settings;
  settings.deletion_grace = 30s;

  auto first = plan_provisioning(snapshot, settings, kNow, {});
  EXPECT_TRUE(first.resizes.empty());
  auto later = plan_provisioning(snapshot, settings, kNow + 31s, first.surplus_since);
  ASSERT_EQ(later.resizes.size(), 1u);
  EXPECT_EQ(later.resizes[0].to, 1);
  EXPECT_NE(later.resizes[0].reason.find("StatefulSet default/web needs 1 of its 3 nodes"), std::string::npos);

  // A pod of another workload landed on a second node: both stay.
  snapshot.pods.push_back(bound(replica("", "", 0), snapshot.nodes[0].name));
  later = plan_provisioning(snapshot, settings, kNow + 31s, first.surplus_since);
  ASSERT_EQ(later.resizes.size(), 1u);
  EXPECT_EQ(later.resizes[0].to, 2);

  // Scaled back up within the grace period: the clock starts again.
  snapshot.pods.push_back(replica("StatefulSet", "web", 1));
  snapshot.pods.push_back(replica("StatefulSet", "web", 2));
  later = plan_provisioning(snapshot, settings, kNow + 31s, first.surplus_since);
  EXPECT_TRUE(later.resizes.empty());
  EXPECT_TRUE(later.surplus_since.empty());
}

TEST(WorkloadPlan, AWorkloadWithNoPodsLosesItsPoolAfterTheGracePeriod) {
  ClusterSnapshot snapshot;
  PoolState pool = our_pool(replica("StatefulSet", "web", 0), PoolStatus::kRunning, 2);
  snapshot.pools = {pool};
  snapshot.nodes = pool_nodes(pool, 2);
  PodFacts done = bound(replica("StatefulSet", "web", 0), snapshot.nodes[0].name);
  done.phase = "Succeeded";
  snapshot.pods = {done};
  PlanSettings settings;
  settings.deletion_grace = 30s;
  auto first = plan_provisioning(snapshot, settings, kNow, {});
  EXPECT_TRUE(first.deletes.empty());
  auto later = plan_provisioning(snapshot, settings, kNow + 30s, first.surplus_since);
  ASSERT_EQ(later.deletes.size(), 1u);
  EXPECT_EQ(later.deletes[0].pool, pool.name);
  EXPECT_EQ(later.deletes[0].reason, "StatefulSet default/web has no pods left");
}

TEST(WorkloadPlan, AFreeUnownedHostOfTheShapeMeansWait) {
  ClusterSnapshot snapshot;
  snapshot.pods = {replica("", "", 0, "tpu-v6e-slice", "2x4", 8)};
  NodeFacts free{"static-0",
                 {{std::string(kNodePoolLabel), "static"},
                  {std::string(kAcceleratorLabel), "tpu-v6e-slice"},
                  {std::string(kTopologyLabel), "2x4"},
                  {kAcceleratorCountLabel, "8"}},
                 true,
                 false};
  snapshot.nodes = {free};
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).creates.empty());
  snapshot.nodes[0].unschedulable = true;
  EXPECT_EQ(plan_provisioning(snapshot, {}, kNow, {}).creates.size(), 1u);
}

TEST(WorkloadPlan, AMultiHostShapeOutsideAGroupIsAnErrorForEachPod) {
  ClusterSnapshot snapshot;
  snapshot.pods = {replica("StatefulSet", "web", 0, "tpu-v6e-slice", "4x4", 4),
                   replica("StatefulSet", "web", 1, "tpu-v6e-slice", "4x4", 4)};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  EXPECT_TRUE(plan.creates.empty());
  ASSERT_EQ(plan.blocked.size(), 2u);
  EXPECT_TRUE(plan.blocked[0].error);
  EXPECT_NE(plan.blocked[0].reason.find("must form a group"), std::string::npos);
}

}  // namespace
}  // namespace tpustack::provisioning
