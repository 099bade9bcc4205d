#include "extender/provisioner/simulated_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/provisioning/fake_cluster.h"
#include "tests/provisioning/pod_builder.h"
#include "tests/support/result_matchers.h"

namespace tpustack::provisioning {
namespace {

using tpustack::testing::value_of;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::PodBuilder;
using tpustack::testing::Succeeds;

PoolSpec spec_4x4() { return build_pool_spec(pod_facts(PodBuilder{}.build()), {}).value(); }

TEST(SimulatedNodes, LookLikeARealTpuPool) {
  PoolSpec spec = spec_4x4();
  auto nodes = simulated_nodes(spec);
  ASSERT_EQ(nodes.size(), 4u);
  const json& node = nodes[2];
  EXPECT_EQ(node["metadata"]["name"], "gke-" + spec.name + "-2");
  const json& labels = node["metadata"]["labels"];
  EXPECT_EQ(labels["cloud.google.com/gke-tpu-accelerator"], "tpu-v6e-slice");
  EXPECT_EQ(labels["cloud.google.com/gke-tpu-topology"], "4x4");
  EXPECT_EQ(labels["cloud.google.com/gke-nodepool"], spec.name);
  EXPECT_EQ(labels["cloud.google.com/gke-accelerator-count"], "4");
  EXPECT_EQ(labels["node.kubernetes.io/instance-type"], "ct6e-standard-4t");
  EXPECT_EQ(labels["kubernetes.io/hostname"], node["metadata"]["name"]);
  EXPECT_EQ(labels["tpustack.dev/managed-by"], "tpu-extender");
  EXPECT_EQ(labels["tpustack.dev/group"], "train-workers-0");
  EXPECT_EQ(labels["tpustack.dev/pool-spec-hash"], spec.hash);
  EXPECT_EQ(node["spec"]["taints"][0],
            (json{{"key", "google.com/tpu"}, {"value", "present"}, {"effect", "NoSchedule"}}));
  EXPECT_EQ(node["status"]["capacity"]["google.com/tpu"], "4");
  EXPECT_EQ(node["status"]["allocatable"]["google.com/tpu"], "4");
  EXPECT_EQ(node["status"]["conditions"][0]["type"], "Ready");
  EXPECT_EQ(node["status"]["conditions"][0]["status"], "True");
}

TEST(SimulatedProvider, CreatesListsAndDeletesNodesThroughTheApi) {
  testing::FakeCluster cluster;
  SimulatedProvider provider(*cluster.client, 10ms);
  PoolSpec spec = spec_4x4();
  EXPECT_TRUE(provider.create(spec, {}));
  auto nodes = value_of(cluster.client->list_all(kube::resources::kNodes, "")).items;
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_EQ(node_facts(nodes[0]).ready, true);

  auto pools = provider.list().value();
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].name, spec.name);
  EXPECT_EQ(pools[0].status, PoolStatus::kRunning);
  EXPECT_EQ(pools[0].node_count, 4);
  EXPECT_EQ(pools[0].chips, 16);
  EXPECT_EQ(pools[0].label(kSpecHashLabel), spec.hash);

  EXPECT_TRUE(provider.create(spec, {}));  // again: the nodes exist, nothing changes
  EXPECT_EQ(value_of(cluster.client->list_all(kube::resources::kNodes, "")).items.size(), 4u);

  EXPECT_TRUE(provider.remove(spec.name, {}));
  EXPECT_TRUE(value_of(cluster.client->list_all(kube::resources::kNodes, "")).items.empty());
  EXPECT_TRUE(provider.list()->empty());
}

TEST(SimulatedProvider, APoolWaitingForItsDelayIsListedAsProvisioning) {
  testing::FakeCluster cluster;
  SimulatedProvider provider(*cluster.client, 300ms);
  PoolSpec spec = spec_4x4();
  std::thread creator([&] { EXPECT_TRUE(provider.create(spec, {})); });
  ASSERT_TRUE(testing::eventually([&] { return !provider.list()->empty(); }));
  EXPECT_EQ(provider.list().value()[0].status, PoolStatus::kProvisioning);
  creator.join();
  EXPECT_EQ(provider.list().value()[0].status, PoolStatus::kRunning);
}

TEST(SimulatedProvider, APoolLeftHalfCreatedByAStoppedProcessIsListedInError) {
  testing::FakeCluster cluster;
  PoolSpec spec = spec_4x4();
  auto nodes = simulated_nodes(spec);
  nodes.pop_back();  // the process that was creating them died after three of four
  for (const json& node : nodes) ASSERT_THAT(cluster.client->create(kube::resources::kNodes, "", node), Succeeds());

  SimulatedProvider restarted(*cluster.client, 10ms);
  auto pools = restarted.list().value();
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].status, PoolStatus::kError);
  EXPECT_EQ(pools[0].node_count, 3);
  EXPECT_THAT(pools[0].status_message, ::testing::HasSubstr("3 of 4 nodes"));

  EXPECT_TRUE(restarted.create(spec, {}));  // finishing it heals the listing
  EXPECT_EQ(restarted.list().value()[0].status, PoolStatus::kRunning);
}

TEST(SimulatedProvider, ResizeAddsLikeNodesAndRemovesIdleOnesFirst) {
  testing::FakeCluster cluster;
  SimulatedProvider provider(*cluster.client, 10ms);
  PodBuilder replica;
  replica.jobset = replica.job = "";
  replica.owner_kind = "StatefulSet";
  replica.owner_name = "web";
  replica.name = "web-0";
  replica.accelerator = "tpu-v5-lite-podslice";
  replica.topology = "2x2";
  PoolSpec spec = build_pool_spec(pod_facts(replica.build()), {}).value();
  EXPECT_TRUE(provider.create(spec, {}));

  EXPECT_TRUE(provider.resize(spec.name, 3, {}));
  auto nodes = value_of(cluster.client->list_all(kube::resources::kNodes, "")).items;
  ASSERT_EQ(nodes.size(), 3u);
  for (const json& node : nodes) {
    NodeFacts facts = node_facts(node);
    EXPECT_TRUE(facts.ready);
    EXPECT_EQ(facts.label(kNodePoolLabel), spec.name);
    EXPECT_EQ(facts.label("node.kubernetes.io/instance-type"), "ct5lp-hightpu-4t");
    EXPECT_EQ(facts.label("kubernetes.io/hostname"), facts.name);
    EXPECT_EQ(node["status"]["allocatable"]["google.com/tpu"], "4");
  }
  EXPECT_EQ(provider.list().value()[0].node_count, 3);

  // web-0 runs on the newest node: the two others go.
  replica.unschedulable = false;
  replica.phase = "Running";
  replica.node_name = "gke-" + spec.name + "-2";
  ASSERT_THAT(cluster.client->create(kube::resources::kPods, "default", replica.build()), Succeeds());
  EXPECT_TRUE(provider.resize(spec.name, 1, {}));
  nodes = value_of(cluster.client->list_all(kube::resources::kNodes, "")).items;
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0]["metadata"]["name"], "gke-" + spec.name + "-2");
}

}  // namespace
}  // namespace tpustack::provisioning
