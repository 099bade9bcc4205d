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

PoolState our_pool(const PodFacts& pod, const std::string& status = "RUNNING") {
  PoolSpec spec = build_pool_spec(pod, {});
  return {spec.name, status, "", spec.labels, spec.node_count(), spec.slice.chips()};
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
  EXPECT_EQ(trigger_blocker(leader()), "");
  PodBuilder follower;
  follower.index = 1;
  EXPECT_EQ(trigger_blocker(pod_facts(follower.build())), "not the leader of its group");
  PodBuilder scheduling;
  scheduling.unschedulable = false;
  EXPECT_NE(trigger_blocker(pod_facts(scheduling.build())), "");
  PodBuilder no_tpu;
  no_tpu.chips = 0;
  EXPECT_NE(trigger_blocker(pod_facts(no_tpu.build())), "");
  PodBuilder no_selector;
  no_selector.accelerator = "";
  EXPECT_NE(trigger_blocker(pod_facts(no_selector.build())), "");
  PodFacts opted = leader();
  opted.opted_out = true;
  EXPECT_EQ(trigger_blocker(opted), "opted out of provisioning");
  PodFacts deleting = leader();
  deleting.deleting = true;
  EXPECT_NE(trigger_blocker(deleting), "");
}

TEST(Plan, CreatesOnePoolPerWaitingLeader) {
  ClusterSnapshot snapshot;
  snapshot.pods = {leader("a"), leader("b")};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 2u);
  EXPECT_EQ(plan.creates[0].leader.name, "a-workers-0-0");
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
  snapshot.pools = {our_pool(leader(), "PROVISIONING")};
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).creates.empty());
  snapshot.pools.clear();
  snapshot.busy_pools = {build_pool_spec(leader(), {}).name};
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

  snapshot.retry_not_before[build_pool_spec(leader("a"), {}).name] = kNow + 1s;
  plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(plan.creates[0].leader.name, "b-workers-0-0");
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
  EXPECT_EQ(first.finished_since.at(pool.name), kNow);

  auto later = plan_provisioning(snapshot, settings, kNow + 31s, first.finished_since);
  ASSERT_EQ(later.deletes.size(), 1u);
  EXPECT_EQ(later.deletes[0].pool, pool.name);
  EXPECT_NE(later.deletes[0].reason.find("JobSet default/train has finished"), std::string::npos);

  // A JobSet that comes back within the grace period keeps its pool and resets the clock.
  snapshot.owners[owner_key(OwnerKind::kJobSet, "default", "train")] = OwnerState::kActive;
  auto back = plan_provisioning(snapshot, settings, kNow + 31s, first.finished_since);
  EXPECT_TRUE(back.deletes.empty());
  EXPECT_TRUE(back.finished_since.empty());
}

TEST(Plan, UnknownOwnersAndForeignPoolsAreKept) {
  ClusterSnapshot snapshot;
  snapshot.pools = {our_pool(leader()), PoolState{"default-pool", "ERROR", "", {}, 3, 0}};
  auto plan = plan_provisioning(snapshot, kNoGrace, kNow, {});
  EXPECT_TRUE(plan.deletes.empty());
}

TEST(Plan, ErrorPoolsAndOrphansAreCollected) {
  ClusterSnapshot snapshot;
  PoolState broken = our_pool(leader("a"), "ERROR");
  PoolState orphan{"tpu-orphan", "RUNNING", "", {{kManagedByLabel, kManagedByValue}}, 1, 4};
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

}  // namespace
}  // namespace tpustack::provisioning
