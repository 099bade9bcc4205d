// Provisioning for a multislice unit (a JobSet replicated job of N > 1 child Jobs): N pools, one per slice,
// created in one round and deleted together when the JobSet ends. Pure.
#include <gtest/gtest.h>

#include "extender/provisioning/provisioning_plan.h"
#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using namespace std::chrono_literals;
using testing::PodBuilder;

const Clock::time_point kNow = Clock::time_point{} + 1h;

// The waiting leader of slice `slice` of the 2-slice JobSet "train".
PodFacts slice_leader(int slice) {
  PodBuilder builder;
  builder.job = "train-workers-" + std::to_string(slice);
  builder.name = builder.job + "-0";
  builder.replicas = 2;
  builder.job_index = slice;
  return pod_facts(builder.build());
}

NodeFacts free_node(const std::string& name, const std::string& pool) {
  return {name,
          {{std::string(kNodePoolLabel), pool},
           {std::string(kAcceleratorLabel), "tpu-v6e-slice"},
           {std::string(kTopologyLabel), "4x4"}},
          true,
          false};
}

void add_free_slice(ClusterSnapshot& snapshot, const std::string& pool) {
  for (int i = 0; i < 4; ++i) snapshot.nodes.push_back(free_node(pool + "-" + std::to_string(i), pool));
}

TEST(MultislicePlan, AUnitThatDoesNotFitGetsOnePoolPerSliceInOneBatch) {
  ClusterSnapshot snapshot;
  snapshot.pods = {slice_leader(0), slice_leader(1)};
  add_free_slice(snapshot, "static");  // one free slice of two: not enough
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 2u);
  EXPECT_EQ(plan.creates[0].spec.labels.at(std::string(kGroupLabel)), "train-workers-0");
  EXPECT_EQ(plan.creates[1].spec.labels.at(std::string(kGroupLabel)), "train-workers-1");
  EXPECT_NE(plan.creates[0].spec.name, plan.creates[1].spec.name);
  EXPECT_EQ(plan.creates[0].batch, "default/train/workers");
  EXPECT_EQ(plan.creates[1].batch, plan.creates[0].batch);

  add_free_slice(snapshot, "static-2");  // two free slices: the extender reserves them, no pool
  EXPECT_TRUE(plan_provisioning(snapshot, {}, kNow, {}).creates.empty());
}

TEST(MultislicePlan, PoolsComeOnlyOnceTheLeadersOfAllSlicesWait) {
  ClusterSnapshot snapshot;
  snapshot.pods = {slice_leader(0)};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  EXPECT_TRUE(plan.creates.empty());
  ASSERT_EQ(plan.blocked.size(), 1u);
  EXPECT_EQ(plan.blocked[0].reason,
            "multislice JobSet default/train: the leaders of 1 of its 2 slices wait; its pools are created together "
            "once all do");
  EXPECT_FALSE(plan.blocked[0].error);
}

TEST(MultislicePlan, ACapThatLeavesRoomForOnePoolCreatesNone) {
  ClusterSnapshot snapshot;
  snapshot.pods = {slice_leader(0), slice_leader(1)};
  PlanSettings settings;
  settings.max_pools = 1;
  auto plan = plan_provisioning(snapshot, settings, kNow, {});
  EXPECT_TRUE(plan.creates.empty());
  ASSERT_EQ(plan.blocked.size(), 2u);
  EXPECT_EQ(plan.blocked[0].reason,
            "multislice JobSet default/train needs 2 pools at once: the cap of 1 provisioned pools is reached");
}

TEST(MultislicePlan, OnlyTheSliceWithoutAPoolGetsOne) {
  ClusterSnapshot snapshot;
  snapshot.pods = {slice_leader(0), slice_leader(1)};
  const PoolSpec first = build_pool_spec(slice_leader(0), {}).value();
  snapshot.pools = {{first.name, PoolStatus::kProvisioning, "", first.labels, first.node_count, first.chips()}};
  auto plan = plan_provisioning(snapshot, {}, kNow, {});
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(plan.creates[0].spec.name, build_pool_spec(slice_leader(1), {}).value().name);
}

TEST(MultislicePlan, TheUnitsPoolsAreDeletedTogetherWhenTheJobSetEnds) {
  ClusterSnapshot snapshot;
  for (int slice : {0, 1}) {
    const PoolSpec spec = build_pool_spec(slice_leader(slice), {}).value();
    snapshot.pools.push_back({spec.name, PoolStatus::kRunning, "", spec.labels, spec.node_count, spec.chips()});
  }
  snapshot.pools.insert(snapshot.pools.begin() + 1, PoolState{"foreign", PoolStatus::kRunning, "", {}, 1, 4});
  snapshot.owners[owner_key(OwnerKind::kJobSet, "default", "train")] = OwnerState::kFinished;
  PlanSettings settings;
  settings.deletion_grace = 30s;
  EXPECT_TRUE(plan_provisioning(snapshot, settings, kNow, {}).deletes.empty());
  auto plan = plan_provisioning(snapshot, settings, kNow + 31s,
                                {{snapshot.pools[0].name, kNow}, {snapshot.pools[2].name, kNow}});
  ASSERT_EQ(plan.deletes.size(), 2u);
  EXPECT_EQ(plan.deletes[0].batch, "JobSet default/train");
  EXPECT_EQ(plan.deletes[1].batch, plan.deletes[0].batch);
}

}  // namespace
}  // namespace tpustack::provisioning
