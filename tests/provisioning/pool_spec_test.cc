#include "extender/provisioning/pool_spec.h"

#include <regex>

#include <gtest/gtest.h>

#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using testing::PodBuilder;

Result<PoolSpec> attempt(const PodBuilder& builder, const PoolDefaults& defaults = {}) {
  return build_pool_spec(pod_facts(builder.build()), defaults);
}

PoolSpec spec_for(const PodBuilder& builder, const PoolDefaults& defaults = {}) {
  return attempt(builder, defaults).value();
}

TEST(PoolName, DeterministicShortAndValidForGke) {
  GroupIdentity group{OwnerKind::kJobSet, "default", "a-very-long-jobset-name-for-training-llama-workers-0", "x", 0};
  std::string name = pool_name(group);
  EXPECT_LE(name.size(), 40u);
  EXPECT_TRUE(std::regex_match(name, std::regex("[a-z]([-a-z0-9]*[a-z0-9])?"))) << name;
  EXPECT_EQ(name, pool_name(group));
  GroupIdentity other = group;
  other.ns = "team-b";
  EXPECT_NE(name, pool_name(other));
  EXPECT_EQ(pool_name({OwnerKind::kPods, "default", "UPPER_case.group", "x", 0}).rfind("tpu-upper-case-group-", 0), 0u);
}

TEST(PoolSpec, V6e4x4SpotIsFourCompactHostsWithTaintsAndOwnership) {
  PodBuilder builder;
  builder.extra_selector = {{"cloud.google.com/gke-spot", "true"}, {"team", "ml"}};
  PoolSpec spec = spec_for(builder);
  EXPECT_EQ(spec.slice.machine_type(), "ct6e-standard-4t");
  EXPECT_EQ(spec.node_count, 4);
  EXPECT_TRUE(spec.compact_placement());
  EXPECT_TRUE(spec.spot);
  ASSERT_EQ(spec.taints.size(), 2u);
  EXPECT_EQ(spec.taints[0], (Taint{"google.com/tpu", "present", "NoSchedule"}));
  EXPECT_EQ(spec.taints[1], (Taint{"cloud.google.com/gke-spot", "true", "NoSchedule"}));
  EXPECT_EQ(spec.labels.at(kManagedByLabel), "tpu-extender");
  EXPECT_EQ(spec.labels.at(std::string(kGroupLabel)), "train-workers-0");
  EXPECT_EQ(spec.labels.at(std::string(kGroupNamespaceLabel)), "default");
  EXPECT_EQ(spec.labels.at(kOwnerKindLabel), "JobSet");
  EXPECT_EQ(spec.labels.at(kOwnerNameLabel), "train");
  EXPECT_EQ(spec.labels.at(kSpecHashLabel), spec.hash);
  EXPECT_EQ(spec.labels.at("team"), "ml");  // custom selectors become node labels
  EXPECT_FALSE(spec.labels.contains("cloud.google.com/gke-spot"));
}

TEST(PoolSpec, NodeCountFollowsTheVmSize) {
  PodBuilder eight;
  eight.topology = "2x4";
  eight.chips = 8;
  PoolSpec single = spec_for(eight);
  EXPECT_EQ(single.slice.machine_type(), "ct6e-standard-8t");
  EXPECT_EQ(single.node_count, 1);
  EXPECT_FALSE(single.compact_placement());

  PodBuilder v5p;
  v5p.accelerator = "tpu-v5p-slice";
  v5p.topology = "2x2x2";
  EXPECT_EQ(spec_for(v5p).node_count, 2);

  PodBuilder one;
  one.topology = "1x1";
  one.chips = 1;
  EXPECT_EQ(spec_for(one).slice.machine_type(), "ct6e-standard-1t");
}

PodBuilder single_host(const std::string& owner_kind, const std::string& owner_name, const std::string& accelerator,
                       const std::string& topology, int chips) {
  PodBuilder builder;
  builder.jobset = builder.job = "";
  builder.owner_kind = owner_kind;
  builder.owner_name = owner_name;
  builder.name = owner_name.empty() ? "lone" : owner_name + "-0";
  builder.accelerator = accelerator;
  builder.topology = topology;
  builder.chips = chips;
  return builder;
}

TEST(PoolSpec, SingleHostPodsGetNodesOfTheirWorkloadsPoolNamedAndLabelledLikeAGroups) {
  PoolSpec v5e = spec_for(single_host("StatefulSet", "web", "tpu-v5-lite-podslice", "2x2", 4));
  EXPECT_TRUE(v5e.for_workload);
  EXPECT_EQ(v5e.slice.machine_type(), "ct5lp-hightpu-4t");
  EXPECT_EQ(v5e.node_count, 1);
  EXPECT_FALSE(v5e.compact_placement());
  EXPECT_EQ(v5e.labels.at(kManagedByLabel), "tpu-extender");
  EXPECT_EQ(v5e.labels.at(std::string(kGroupLabel)), "web");
  EXPECT_EQ(v5e.labels.at(std::string(kGroupNamespaceLabel)), "default");
  EXPECT_EQ(v5e.labels.at(kOwnerKindLabel), "StatefulSet");
  EXPECT_EQ(v5e.labels.at(kOwnerNameLabel), "web");
  EXPECT_EQ(v5e.labels.at(kPoolKindLabel), "workload");
  EXPECT_EQ(v5e.labels.at(kSpecHashLabel), v5e.hash);
  EXPECT_EQ(v5e.taints[0], (Taint{"google.com/tpu", "present", "NoSchedule"}));
  EXPECT_LE(v5e.name.size(), 40u);
  EXPECT_EQ(v5e.name.rfind("tpu-web-", 0), 0u) << v5e.name;
  // Every replica asks for the same pool; another shape of the same workload for another one.
  PodBuilder replica = single_host("StatefulSet", "web", "tpu-v5-lite-podslice", "2x2", 4);
  replica.name = "web-2";
  EXPECT_EQ(spec_for(replica).name, v5e.name);
  replica.extra_selector = {{"cloud.google.com/gke-spot", "true"}};
  EXPECT_NE(spec_for(replica).name, v5e.name);

  PoolSpec lone = spec_for(single_host("", "", "tpu-v6e-slice", "2x4", 8));
  EXPECT_EQ(lone.slice.machine_type(), "ct6e-standard-8t");
  EXPECT_EQ(lone.node_count, 1);
  EXPECT_EQ(lone.labels.at(kOwnerKindLabel), "Pod");
  EXPECT_EQ(lone.labels.at(kOwnerNameLabel), "lone");
}

TEST(PoolSpec, APodAskingForPartOfAHostGetsTheHostThatHoldsItsTopology) {
  PoolSpec one_chip = spec_for(single_host("ReplicaSet", "infer-7d9f8", "tpu-v5-lite-podslice", "2x2", 1));
  EXPECT_EQ(one_chip.slice.machine_type(), "ct5lp-hightpu-4t");
  EXPECT_EQ(one_chip.slice.chips_per_host(), 4);
  // Without a group, 4 chips of a v6e 2x4 are half of one 8-chip host, not a 2-host slice.
  PoolSpec half = spec_for(single_host("ReplicaSet", "infer-7d9f8", "tpu-v6e-slice", "2x4", 4));
  EXPECT_EQ(half.slice.machine_type(), "ct6e-standard-8t");
  EXPECT_FALSE(half.slice.multi_host());
}

TEST(PoolSpec, AMultiHostTopologyOutsideAGroupSaysWhatToDo) {
  auto spec = attempt(single_host("StatefulSet", "web", "tpu-v6e-slice", "4x4", 4));
  ASSERT_FALSE(spec);
  EXPECT_NE(spec.error().message.find("spans 4 hosts, so its pods must form a group"), std::string::npos)
      << spec.error().message;
  EXPECT_FALSE(attempt(single_host("", "", "tpu-v5-lite-podslice", "2x2", 8)));
}

TEST(PoolSpec, Tpu7xUsesAWorkloadPolicyNotCompactPlacement) {
  PodBuilder builder;
  builder.accelerator = "tpu7x";
  builder.topology = "2x2x2";
  PoolDefaults defaults;
  defaults.workload_policy_prefix = "wp-";
  PoolSpec spec = spec_for(builder, defaults);
  EXPECT_EQ(spec.slice.machine_type(), "tpu7x-standard-4t");
  EXPECT_EQ(spec.workload_policy, "wp-2x2x2");
  EXPECT_FALSE(spec.compact_placement());
}

TEST(PoolSpec, ReservationAndLocationHint) {
  PodBuilder builder;
  builder.extra_selector = {{"cloud.google.com/reservation-name", "res1"},
                            {"cloud.google.com/reservation-project", "shared"},
                            {"cloud.google.com/gke-location-hint", "cell-a"}};
  PoolSpec spec = spec_for(builder);
  EXPECT_EQ(spec.reservation, "projects/shared/reservations/res1");
  EXPECT_EQ(spec.labels.at("cloud.google.com/gke-location-hint"), "cell-a");
  builder.extra_selector = {{"cloud.google.com/reservation-name", "res1"}};
  EXPECT_EQ(spec_for(builder).reservation, "res1");
}

TEST(PoolSpec, HashChangesWithTheShape) {
  PodBuilder a;
  PodBuilder b;
  b.extra_selector = {{"cloud.google.com/gke-spot", "true"}};
  EXPECT_NE(spec_for(a).hash, spec_for(b).hash);
  EXPECT_EQ(spec_for(a).hash, spec_for(a).hash);
}

TEST(PoolSpec, ImpossibleWishesSayWhy) {
  PodBuilder multi_on_eight;
  multi_on_eight.chips = 8;  // multi-host slices are built from 4-chip VMs
  EXPECT_FALSE(attempt(multi_on_eight));
  PodBuilder no_topology;
  no_topology.topology = "";
  auto unselected = attempt(no_topology);
  ASSERT_FALSE(unselected);
  EXPECT_NE(unselected.error().message.find("cloud.google.com/gke-tpu-topology"), std::string::npos);
  PodBuilder bad;
  bad.topology = "3x5";
  EXPECT_FALSE(attempt(bad));
}

}  // namespace
}  // namespace tpustack::provisioning
