// A 2-slice JobSet end to end against the fake API server with the simulated provider: the controller creates
// both slices' pools together, the extender's decisions place each slice on its own pool, and both pools go
// together when the JobSet ends.
#include <gtest/gtest.h>

#include <map>

#include "extender/model/cluster_state.h"
#include "extender/placement/slice_reservation.h"
#include "extender/provisioner/provisioning_controller.h"
#include "extender/provisioner/simulated_provider.h"
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

PodBuilder slice_worker(int slice, int index) {
  PodBuilder builder;
  builder.job = "train-workers-" + std::to_string(slice);
  builder.name = builder.job + "-" + std::to_string(index);
  builder.index = index;
  builder.replicas = 2;
  builder.job_index = slice;
  return builder;
}

class MultisliceScenario : public ::testing::Test {
 protected:
  kube::KubeClient& client() { return *cluster.client; }

  // Nodes in the API server, by the pool they belong to.
  std::map<std::string, int> nodes_per_pool() {
    std::map<std::string, int> pools;
    for (const json& node : value_of(client().list_all(kube::resources::kNodes, "")).items) {
      ++pools[node_facts(node).label(kNodePoolLabel)];
    }
    return pools;
  }

  // The extender's model of what the API server holds now.
  extender::ClusterState extender_view() {
    extender::ClusterState state;
    for (const json& node : value_of(client().list_all(kube::resources::kNodes, "")).items) {
      state.upsert_node(value_of(extender::parse_node(node)));
    }
    for (const json& pod : value_of(client().list_all(kube::resources::kPods, "")).items) {
      state.upsert_pod(value_of(extender::parse_pod(pod)));
    }
    return state;
  }

  testing::FakeCluster cluster;
  metrics::MetricsRegistry registry;
};

TEST_F(MultisliceScenario, BothPoolsAppearTogetherBothSlicesPlaceAndBothGoWhenTheJobSetEnds) {
  SimulatedProvider provider(client(), 300ms);
  ControllerSettings settings;  // one operation at a time: the unit's two creates count as one
  settings.resync = 50ms;
  settings.plan.deletion_grace = 200ms;
  ProvisioningController controller(client(), provider, settings, registry);
  ASSERT_THAT(client().create(kube::resources::kJobSets, "default",
                              {{"apiVersion", "jobset.x-k8s.io/v1alpha2"},
                               {"kind", "JobSet"},
                               {"metadata", {{"name", "train"}, {"namespace", "default"}}},
                               {"spec", json::object()}}),
              Succeeds());
  for (int slice : {0, 1}) {
    for (int i = 0; i < 4; ++i)
      ASSERT_THAT(client().create(kube::resources::kPods, "default", slice_worker(slice, i).build()), Succeeds());
  }
  controller.start();

  const std::string pool0 = build_pool_spec(pod_facts(slice_worker(0, 0).build()), {}).value().name;
  const std::string pool1 = build_pool_spec(pod_facts(slice_worker(1, 0).build()), {}).value().name;
  ASSERT_TRUE(testing::eventually([&] { return controller.operations_in_flight() == 2; }, 10s));  // both at once
  // The simulated provider adds a pool's nodes one at a time: wait for all four of each.
  ASSERT_TRUE(testing::eventually([&] {
    return nodes_per_pool() == std::map<std::string, int>{{pool0, 4}, {pool1, 4}};
  }));

  // Each slice's members fit only their own pool, worker i on host i.
  auto state = extender_view();
  std::vector<std::string> nodes;
  for (const auto& [name, node] : state.nodes()) nodes.push_back(name);
  for (int slice : {0, 1}) {
    const std::string pool = slice == 0 ? pool0 : pool1;
    for (int i = 0; i < 4; ++i) {
      const auto* pod = state.find_pod("default/" + slice_worker(slice, i).name);
      ASSERT_NE(pod, nullptr);
      auto filtered = extender::filter_reserving(state, *pod, nodes, std::chrono::steady_clock::now());
      ASSERT_EQ(filtered.outcome.passed.size(), 1u) << pod->name;
      EXPECT_EQ(filtered.outcome.passed.front(), "gke-" + pool + "-" + std::to_string(i));
      ASSERT_THAT(client().bind_pod("default", pod->name, std::string(filtered.outcome.passed.front())), Succeeds());
    }
  }

  ASSERT_THAT(client().patch(kube::resources::kJobSets, "default", "train",
                             {{"status", {{"conditions", {{{"type", "Completed"}, {"status", "True"}}}}}}},
                             kube::PatchType::kMerge, "status"),
              Succeeds());
  // Both deletes at once as well.
  ASSERT_TRUE(testing::eventually([&] { return controller.operations_in_flight() == 2; }, 10s));
  EXPECT_TRUE(testing::eventually([&] { return nodes_per_pool().empty(); }));
}

}  // namespace
}  // namespace tpustack::provisioning
