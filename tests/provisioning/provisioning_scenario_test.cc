// The provisioning controller end to end against the fake API server, with the simulated provider or
// the gke provider talking to the fake GKE server.
#include <gtest/gtest.h>

#include "extender/provisioner/gke_provider.h"
#include "extender/provisioner/provisioning_controller.h"
#include "extender/provisioner/simulated_provider.h"
#include "tests/fakes/gke/fake_gke_server.h"
#include "tests/provisioning/fake_cluster.h"
#include "tests/provisioning/pod_builder.h"
#include "tests/support/result_matchers.h"

namespace tpustack::provisioning {
namespace {

using tpustack::testing::value_of;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::eventually;
using testing::PodBuilder;
using tpustack::testing::Succeeds;

ControllerSettings fast_settings() {
  ControllerSettings settings;
  settings.resync = 50ms;
  settings.plan.deletion_grace = 300ms;
  settings.transient_retry = {20ms, 200ms, 2.0, 0.5};
  settings.capacity_retry = {50ms, 300ms, 2.0, 0.5};
  settings.permanent_retry = {100ms, 500ms, 2.0, 0.5};
  return settings;
}

class ProvisioningScenario : public ::testing::Test {
 protected:
  kube::KubeClient& client() { return *cluster.client; }

  // A JobSet with one replicated job of `hosts` workers; only the leader exists yet, Unschedulable,
  // as JobSet holds followers back until the leader is placed.
  void submit_jobset(const std::string& name, const std::string& topology = "4x4", int chips = 4) {
    ASSERT_THAT(client().create(kube::resources::kJobSets, "default",
                                {{"apiVersion", "jobset.x-k8s.io/v1alpha2"},
                                 {"kind", "JobSet"},
                                 {"metadata", {{"name", name}, {"namespace", "default"}}},
                                 {"spec", json::object()}}),
                Succeeds());
    ASSERT_THAT(client().create(kube::resources::kPods, "default", worker(name, 0, topology, chips).build()),
                Succeeds());
  }

  PodBuilder worker(const std::string& jobset, int index, const std::string& topology = "4x4", int chips = 4) {
    PodBuilder builder;
    builder.jobset = jobset;
    builder.job = jobset + "-workers-0";
    builder.name = jobset + "-workers-0-" + std::to_string(index);
    builder.index = index;
    builder.topology = topology;
    builder.chips = chips;
    return builder;
  }

  // A pod of a StatefulSet, as kube-scheduler leaves it when nothing fits: PodScheduled=False, Unschedulable.
  PodBuilder replica(const std::string& statefulset, int index, const std::string& accelerator = "tpu-v5-lite-podslice",
                     const std::string& topology = "2x2", int chips = 4) {
    PodBuilder builder;
    builder.jobset = builder.job = "";
    builder.owner_kind = statefulset.empty() ? "" : "StatefulSet";
    builder.owner_name = statefulset;
    builder.name = (statefulset.empty() ? "lone" : statefulset) + "-" + std::to_string(index);
    builder.index = index;
    builder.accelerator = accelerator;
    builder.topology = topology;
    builder.chips = chips;
    return builder;
  }

  void run_on(const std::string& pod, const std::string& node) {
    ASSERT_THAT(client().bind_pod("default", pod, node), Succeeds());
    ASSERT_THAT(client().patch(kube::resources::kPods, "default", pod,
                               {{"status", {{"phase", "Running"}, {"conditions", json::array()}}}},
                               kube::PatchType::kMerge, "status"),
                Succeeds());
  }

  int count_events(const std::string& reason) {
    auto reasons = event_reasons();
    return static_cast<int>(std::count(reasons.begin(), reasons.end(), reason));
  }

  void set_jobset_condition(const std::string& name, const std::string& type) {
    ASSERT_THAT(client().patch(kube::resources::kJobSets, "default", name,
                               {{"status", {{"conditions", {{{"type", type}, {"status", "True"}}}}}}},
                               kube::PatchType::kMerge, "status"),
                Succeeds());
  }

  std::vector<NodeFacts> nodes_of(const std::string& pool) {
    std::vector<NodeFacts> out;
    for (const json& node : value_of(client().list_all(kube::resources::kNodes, "")).items) {
      NodeFacts facts = node_facts(node);
      if (facts.label(kNodePoolLabel) == pool) out.push_back(facts);
    }
    return out;
  }

  std::vector<std::string> event_reasons() {
    std::vector<std::string> reasons;
    for (const json& event : value_of(client().list_all(kube::resources::kEvents, "")).items) {
      reasons.push_back(event.value("reason", ""));
    }
    return reasons;
  }

  bool has_event(const std::string& reason) {
    auto reasons = event_reasons();
    return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
  }

  std::string pool_for(const std::string& jobset, const std::string& topology = "4x4", int chips = 4) {
    return build_pool_spec(pod_facts(worker(jobset, 0, topology, chips).build()), {}).value().name;
  }

  std::string pool_status(const std::string& pool) {
    auto pools = gke.pools();
    return pools.contains(pool) ? pools[pool].value("status", "") : "";
  }

  GkeSettings gke_settings() {
    GkeSettings settings;
    settings.api_url = settings.metadata_url = settings.compute_url = gke.url();
    settings.poll_interval = 10ms;
    return settings;  // project, location and cluster from the fake metadata server
  }

  testing::FakeCluster cluster;
  fakes::FakeGkeServer gke;
  metrics::MetricsRegistry registry;
};

TEST_F(ProvisioningScenario, SimulatedPoolAppearsServesItsGroupAndGoesAfterTheGracePeriod) {
  SimulatedProvider provider(client(), 50ms);
  ProvisioningController controller(client(), provider, fast_settings(), registry);
  submit_jobset("train");
  controller.start();

  const std::string pool = pool_for("train");
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).size() == 4; }));
  for (const NodeFacts& node : nodes_of(pool)) {
    EXPECT_TRUE(node.ready);
    EXPECT_EQ(node.label(kAcceleratorLabel), "tpu-v6e-slice");
    EXPECT_EQ(node.label(kTopologyLabel), "4x4");
    EXPECT_EQ(node.label(kGroupLabel), "train-workers-0");
  }
  ASSERT_TRUE(eventually([&] { return has_event("NodePoolCreationSucceeded"); }));
  EXPECT_TRUE(has_event("NodePoolCreationStarted"));

  // The extender's part, played here: worker i on host i; followers are created once the leader is placed.
  ASSERT_THAT(client().bind_pod("default", "train-workers-0-0", "gke-" + pool + "-0"), Succeeds());
  for (int i = 1; i < 4; ++i) {
    ASSERT_THAT(client().create(kube::resources::kPods, "default", worker("train", i).build()), Succeeds());
    ASSERT_THAT(
        client().bind_pod("default", "train-workers-0-" + std::to_string(i), "gke-" + pool + "-" + std::to_string(i)),
        Succeeds());
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_THAT(client().patch(kube::resources::kPods, "default", "train-workers-0-" + std::to_string(i),
                               {{"status", {{"phase", "Running"}, {"conditions", json::array()}}}},
                               kube::PatchType::kMerge, "status"),
                Succeeds());
  }
  std::this_thread::sleep_for(200ms);  // a few rounds with a running group: the pool stays
  EXPECT_EQ(nodes_of(pool).size(), 4u);

  set_jobset_condition("train", "Completed");
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).empty(); }));
  ASSERT_TRUE(eventually([&] { return has_event("NodePoolDeletionSucceeded"); }));
  EXPECT_TRUE(eventually(
      [&] { return registry.render().find("tpustack_provisioner_pools_deleted_total 1") != std::string::npos; }));
  std::string metrics = registry.render();
  EXPECT_NE(metrics.find("tpustack_provisioner_pools_created_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tpustack_provisioner_trigger_to_ready_seconds_count 1"), std::string::npos) << metrics;
}

TEST_F(ProvisioningScenario, AnUnschedulableLeaderWakesTheLoopWithoutWaitingForTheResync) {
  SimulatedProvider provider(client(), 10ms);
  auto settings = fast_settings();
  settings.resync = 60s;
  ProvisioningController controller(client(), provider, settings, registry);
  controller.start();
  std::this_thread::sleep_for(200ms);  // informers synced, first round done
  submit_jobset("train");
  EXPECT_TRUE(eventually([&] { return has_event("NodePoolCreationStarted"); }, 10s));
}

TEST_F(ProvisioningScenario, ARestartingJobSetKeepsItsPoolAndADeletedOneLosesIt) {
  SimulatedProvider provider(client(), 10ms);
  auto settings = fast_settings();
  settings.plan.deletion_grace = 1s;
  ProvisioningController controller(client(), provider, settings, registry);
  submit_jobset("train");
  controller.start();
  const std::string pool = pool_for("train");
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).size() == 4; }));

  // Deleted and submitted again within the grace period (a restart from outside): same pool.
  ASSERT_THAT(client().remove(kube::resources::kJobSets, "default", "train"), Succeeds());
  ASSERT_THAT(client().remove(kube::resources::kPods, "default", "train-workers-0-0"), Succeeds());
  std::this_thread::sleep_for(200ms);
  submit_jobset("train");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(nodes_of(pool).size(), 4u);
  EXPECT_FALSE(has_event("NodePoolDeletionStarted"));

  // Gone for good while its leader pod lingers: the pool goes and is not created again.
  ASSERT_THAT(client().remove(kube::resources::kJobSets, "default", "train"), Succeeds());
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).empty(); }));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(nodes_of(pool).empty());
  auto reasons = event_reasons();
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "NodePoolCreationStarted"), 1);
}

TEST_F(ProvisioningScenario, RestartMidCreateDoesNotCreateTwice) {
  gke.start();
  gke.set_create_latency(800ms);
  submit_jobset("train");
  {
    const auto provider_started = GkeProvider::start(gke_settings()).value();
    GkeProvider& provider = *provider_started;
    ProvisioningController first(client(), provider, fast_settings(), registry);
    first.start();
    ASSERT_TRUE(eventually([&] { return gke.creates_accepted() == 1; }));
    first.stop();  // dies while GKE is still creating
  }
  const auto provider_started = GkeProvider::start(gke_settings()).value();
  GkeProvider& provider = *provider_started;
  ProvisioningController second(client(), provider, fast_settings(), registry);
  second.start();
  const std::string pool = pool_for("train");
  ASSERT_TRUE(eventually([&] { return pool_status(pool) == "RUNNING"; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gke.creates_accepted(), 1);
  EXPECT_EQ(gke.count("POST", "/nodePools"), 1);
}

TEST_F(ProvisioningScenario, SimulatedRestartMidCreateLeavesOneSetOfNodes) {
  submit_jobset("train");
  {
    SimulatedProvider provider(client(), 2s);
    ProvisioningController first(client(), provider, fast_settings(), registry);
    first.start();
    ASSERT_TRUE(eventually([&] { return has_event("NodePoolCreationStarted"); }));
    first.stop();
  }
  SimulatedProvider provider(client(), 10ms);
  ProvisioningController second(client(), provider, fast_settings(), registry);
  second.start();
  const std::string pool = pool_for("train");
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).size() == 4; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(value_of(client().list_all(kube::resources::kNodes, "")).items.size(), 4u);
}

TEST_F(ProvisioningScenario, SimulatedPoolLeftWithSomeNodesByAKilledProcessIsReplacedWhole) {
  submit_jobset("train");
  auto nodes = simulated_nodes(build_pool_spec(pod_facts(worker("train", 0).build()), {}).value());
  nodes.pop_back();  // killed while writing the last node
  for (const json& node : nodes) ASSERT_THAT(client().create(kube::resources::kNodes, "", node), Succeeds());

  SimulatedProvider provider(client(), 10ms);
  ProvisioningController controller(client(), provider, fast_settings(), registry);
  controller.start();
  ASSERT_TRUE(eventually([&] { return nodes_of(pool_for("train")).size() == 4; }));
  EXPECT_TRUE(has_event("NodePoolCreationStarted"));
}

TEST_F(ProvisioningScenario, HundredLeadersAtOnceTwoReplicasEachPoolCreatedOnce) {
  gke.set_create_latency(20ms);
  gke.set_max_concurrent_operations(5);
  gke.set_one_operation_at_a_time(false);  // this is about the quota of 5
  gke.start();
  for (int i = 0; i < 100; ++i) submit_jobset("job" + std::to_string(i), "2x4", 8);  // single-host v6e 2x4

  auto settings = fast_settings();
  settings.max_operations = 5;
  auto replica = [&](const std::string& identity) {
    auto s = settings;
    s.lease = LeaseSettings{"kube-system", "tpu-extender-provisioner", identity, 2s};
    return s;
  };
  const auto provider_a_started = GkeProvider::start(gke_settings()).value();
  GkeProvider& provider_a = *provider_a_started;
  const auto provider_b_started = GkeProvider::start(gke_settings()).value();
  GkeProvider& provider_b = *provider_b_started;
  metrics::MetricsRegistry registry_b;
  ProvisioningController a(client(), provider_a, replica("a"), registry);
  ProvisioningController b(client(), provider_b, replica("b"), registry_b);
  a.start();
  b.start();
  ASSERT_TRUE(eventually(
      [&] {
        auto pools = gke.pools();
        return pools.size() == 100 &&
               std::all_of(pools.begin(), pools.end(), [](const auto& p) { return p.second["status"] == "RUNNING"; });
      },
      60s));
  EXPECT_NE(a.leading(), b.leading());
  EXPECT_EQ(gke.creates_accepted(), 100);
  std::map<std::string, int> posts;
  for (const auto& request : gke.requests()) {
    if (request.method == "POST") ++posts[request.body["nodePool"]["name"].get<std::string>()];
  }
  EXPECT_EQ(posts.size(), 100u);
  for (const auto& [name, count] : posts) EXPECT_EQ(count, 1) << name;
  EXPECT_LE(gke.max_operations_seen(), 5);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(gke.pools()[pool_for("job" + std::to_string(i), "2x4", 8)]["initialNodeCount"], 1);
  }
}

TEST_F(ProvisioningScenario, GkeErrorStormEndsWithOnePoolAndEventsOnTheLeader) {
  gke.start();
  gke.inject({"POST", "/nodePools", 429, "RESOURCE_EXHAUSTED", "Too many operations: quota 5", 2});
  gke.inject({"POST", "/nodePools", 500, "INTERNAL", "backend error", 2});
  gke.inject({"POST", "/nodePools", 400, "FAILED_PRECONDITION", "Cluster is running incompatible operation", 2});
  gke.inject({"GET", "/operations/", 503, "UNAVAILABLE", "try again", 3});
  gke.fail_next_creates(1, 8, "GCE_STOCKOUT: the zone does not have enough resources");
  submit_jobset("train");
  const auto provider_started = GkeProvider::start(gke_settings()).value();
  GkeProvider& provider = *provider_started;
  ProvisioningController controller(client(), provider, fast_settings(), registry);
  controller.start();

  const std::string pool = pool_for("train");
  ASSERT_TRUE(eventually([&] { return pool_status(pool) == "RUNNING"; }));
  // The stockout left an ERROR pool, which was collected and created again: two creates, never two pools.
  EXPECT_EQ(gke.creates_accepted(), 2);
  EXPECT_EQ(gke.pools().size(), 1u);
  EXPECT_LE(gke.max_operations_seen(), 1);
  EXPECT_TRUE(has_event("NodePoolCreationFailed"));
  EXPECT_TRUE(eventually([&] { return has_event("NodePoolCreationSucceeded"); }));
  std::string metrics = registry.render();
  EXPECT_NE(metrics.find("kind=\"transient\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("kind=\"capacity\""), std::string::npos) << metrics;
}

// GKE refuses a create while it upgrades the cluster (400 FAILED_PRECONDITION, "... is currently upgrading
// cluster ..."): with the controller's own retry policy the pool comes within a minute, not 5-30 min later.
TEST_F(ProvisioningScenario, ABusyGkeClusterIsAskedAgainWithinAMinute) {
  gke.start();
  gke.start_cluster_operation("UPGRADE_MASTER", 1500ms);
  submit_jobset("train");
  const auto provider_started = GkeProvider::start(gke_settings()).value();
  GkeProvider& provider = *provider_started;
  auto settings = fast_settings();
  settings.transient_retry = ControllerSettings{}.transient_retry;
  ProvisioningController controller(client(), provider, settings, registry);
  const auto started = std::chrono::steady_clock::now();
  controller.start();

  ASSERT_TRUE(eventually([&] { return pool_status(pool_for("train")) == "RUNNING"; }, 60s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
  EXPECT_GE(gke.count("POST", "/nodePools"), 2);  // refused while busy, then accepted
  EXPECT_EQ(gke.creates_accepted(), 1);
  EXPECT_TRUE(has_event("NodePoolCreationFailed"));
}

TEST_F(ProvisioningScenario, ACancelledGkeCreateIsRetried) {
  gke.set_create_latency(60s);
  gke.start();
  submit_jobset("train");
  const auto provider_started = GkeProvider::start(gke_settings()).value();
  GkeProvider& provider = *provider_started;
  ProvisioningController controller(client(), provider, fast_settings(), registry);
  controller.start();

  const std::string pool = pool_for("train");
  ASSERT_TRUE(eventually([&] { return !gke.operation_of(pool).empty(); }));
  gke.set_create_latency(20ms);
  ASSERT_TRUE(gke.cancel_operation(gke.operation_of(pool)));  // as `gcloud container operations cancel` does
  ASSERT_TRUE(eventually([&] { return pool_status(pool) == "RUNNING"; }));
  EXPECT_EQ(gke.creates_accepted(), 2);
}

TEST_F(ProvisioningScenario, CleanupOnlyDeletesButNeverCreates) {
  SimulatedProvider provider(client(), 10ms);
  PoolSpec old = build_pool_spec(pod_facts(worker("gone", 0).build()), {}).value();
  EXPECT_TRUE(provider.create(old, {}));  // a pool whose JobSet no longer exists
  submit_jobset("train");
  auto settings = fast_settings();
  settings.plan.cleanup_only = true;
  ProvisioningController controller(client(), provider, settings, registry);
  controller.start();
  ASSERT_TRUE(eventually([&] { return nodes_of(old.name).empty(); }));
  ASSERT_TRUE(eventually([&] { return has_event("NodePoolCreationWaiting"); }));
  EXPECT_TRUE(nodes_of(pool_for("train")).empty());
}

TEST_F(ProvisioningScenario, AStatefulSetGetsOnePoolOfItsReplicasThatShrinksWithItAfterTheGracePeriod) {
  SimulatedProvider provider(client(), 10ms);
  auto settings = fast_settings();
  settings.plan.deletion_grace = 1s;
  ProvisioningController controller(client(), provider, settings, registry);
  for (int i = 0; i < 3; ++i)
    ASSERT_THAT(client().create(kube::resources::kPods, "default", replica("web", i).build()), Succeeds());
  controller.start();

  const std::string pool = build_pool_spec(pod_facts(replica("web", 0).build()), {}).value().name;
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).size() == 3; }));
  for (const NodeFacts& node : nodes_of(pool)) {
    EXPECT_EQ(node.label("node.kubernetes.io/instance-type"), "ct5lp-hightpu-4t");
    EXPECT_EQ(node.label(kAcceleratorLabel), "tpu-v5-lite-podslice");
    EXPECT_EQ(node.label(kTopologyLabel), "2x2");
    EXPECT_EQ(node.label(kOwnerKindLabel), "StatefulSet");
    EXPECT_EQ(node.label(kGroupLabel), "web");
  }
  for (int i = 0; i < 3; ++i) run_on("web-" + std::to_string(i), "gke-" + pool + "-" + std::to_string(i));
  std::this_thread::sleep_for(300ms);  // a few rounds with every replica running: the pool stays as it is
  EXPECT_EQ(nodes_of(pool).size(), 3u);
  EXPECT_EQ(count_events("NodePoolCreationStarted"), 1);

  // Scaled to 1: the StatefulSet controller deletes the two highest replicas.
  const auto scaled = std::chrono::steady_clock::now();
  ASSERT_THAT(client().remove(kube::resources::kPods, "default", "web-2"), Succeeds());
  ASSERT_THAT(client().remove(kube::resources::kPods, "default", "web-1"), Succeeds());
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).size() == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - scaled, settings.plan.deletion_grace);
  EXPECT_EQ(nodes_of(pool)[0].name, "gke-" + pool + "-0");  // where web-0 runs
  EXPECT_TRUE(eventually([&] { return has_event("NodePoolResizeSucceeded"); }));
  EXPECT_TRUE(eventually(
      [&] { return registry.render().find("tpustack_provisioner_pools_resized_total 1") != std::string::npos; }));

  // Deleted: the pool goes too.
  ASSERT_THAT(client().remove(kube::resources::kPods, "default", "web-0"), Succeeds());
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).empty(); }));
  EXPECT_TRUE(eventually([&] { return has_event("NodePoolDeletionSucceeded"); }));
}

TEST_F(ProvisioningScenario, ABareEightChipV6ePodGetsOneEightChipNode) {
  SimulatedProvider provider(client(), 10ms);
  ProvisioningController controller(client(), provider, fast_settings(), registry);
  ASSERT_THAT(client().create(kube::resources::kPods, "default", replica("", 0, "tpu-v6e-slice", "2x4", 8).build()),
              Succeeds());
  controller.start();
  const std::string pool =
      build_pool_spec(pod_facts(replica("", 0, "tpu-v6e-slice", "2x4", 8).build()), {}).value().name;
  ASSERT_TRUE(eventually([&] { return nodes_of(pool).size() == 1; }));
  const json node = value_of(client().get(kube::resources::kNodes, "", "gke-" + pool + "-0"));
  EXPECT_EQ(node["metadata"]["labels"]["node.kubernetes.io/instance-type"], "ct6e-standard-8t");
  EXPECT_EQ(node["status"]["allocatable"]["google.com/tpu"], "8");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(nodes_of(pool).size(), 1u);
  EXPECT_EQ(count_events("NodePoolCreationStarted"), 1);
}

TEST_F(ProvisioningScenario, AGkePoolOfAWorkloadIsGrownAndShrunkWithSetSize) {
  gke.start();
  const auto provider_started = GkeProvider::start(gke_settings()).value();
  GkeProvider& provider = *provider_started;
  ProvisioningController controller(client(), provider, fast_settings(), registry);
  ASSERT_THAT(client().create(kube::resources::kPods, "default", replica("web", 0).build()), Succeeds());
  controller.start();
  const std::string pool = build_pool_spec(pod_facts(replica("web", 0).build()), {}).value().name;
  ASSERT_TRUE(eventually([&] { return pool_status(pool) == "RUNNING"; }));
  EXPECT_EQ(gke.pools()[pool]["initialNodeCount"], 1);
  EXPECT_EQ(gke.pools()[pool]["config"]["machineType"], "ct5lp-hightpu-4t");

  // Two more replicas pend: the pool grows to 3 (no nodes register here, so they keep waiting).
  ASSERT_THAT(client().create(kube::resources::kPods, "default", replica("web", 1).build()), Succeeds());
  ASSERT_THAT(client().create(kube::resources::kPods, "default", replica("web", 2).build()), Succeeds());
  ASSERT_TRUE(eventually([&] { return gke.pool_sizes()[pool] == 3; }));
  const int set_sizes = gke.count("POST", ":setSize");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gke.count("POST", ":setSize"), set_sizes);  // not asked again on every round while nodes come

  ASSERT_THAT(client().remove(kube::resources::kPods, "default", "web-2"), Succeeds());
  ASSERT_THAT(client().remove(kube::resources::kPods, "default", "web-1"), Succeeds());
  ASSERT_TRUE(eventually([&] { return gke.pool_sizes()[pool] == 1; }));
  ASSERT_THAT(client().remove(kube::resources::kPods, "default", "web-0"), Succeeds());
  ASSERT_TRUE(eventually([&] { return gke.pools().empty(); }));
  EXPECT_EQ(gke.creates_accepted(), 1);
}

}  // namespace
}  // namespace tpustack::provisioning
