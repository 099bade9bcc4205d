// The whole story with the real programs: a JobSet group arrives with no slice, the provisioner creates the
// pool, the device plugins register, the extender places worker i on host i, inferd serves with each
// worker's environment, the pool goes after the group; a second group waits, then gets its own pool.
#include <signal.h>

#include <filesystem>
#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/jobset_group.h"
#include "tests/e2e/local_cluster.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int kWorkers = 4;
constexpr auto kStep = 120s;  // generous: a loaded 2-core machine runs four device plugins and four inferd

class StoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string models = std::string(TPUSTACK_BINARY_DIR) + "/tests/inferd/tiny-models";
    TPUSTACK_REQUIRE_SETUP(std::filesystem::exists(models + "/f32-mean/config.json"),
                           "python3-numpy (it writes the tiny models into " + models + ")");
    // Short: the plugin sockets live under it.
    work_dir_ = tpustack::testing::make_temp_dir("e2e");
    ClusterOptions options;
    options.binary_dir = TPUSTACK_BINARY_DIR;
    options.work_dir = work_dir_;
    options.models = {"embedder=" + models + "/f32-mean"};
    options.narrate = [](const std::string& line) { std::cerr << "[story] " << line << std::endl; };
    cluster_ = std::make_unique<LocalCluster>(options);
    cluster_->start_extender();
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(work_dir_);
  }

  json pod(const std::string& name) { return cluster_->store().get({"", "pods"}, "default", name); }
  std::string node_of(const std::string& name) { return pod(name)["spec"].value("nodeName", ""); }
  std::string annotation(const std::string& name, const std::string& key) {
    return pod(name)["metadata"].value("annotations", json::object()).value(key, "");
  }
  // Nodes of `pool`, in host order.
  std::vector<std::string> pool_nodes(const std::string& pool) {
    std::vector<std::string> names;
    for (const json& node : cluster_->nodes()) {
      if (node["metadata"]["labels"].value("cloud.google.com/gke-nodepool", "") == pool) {
        names.push_back(node["metadata"]["name"]);
      }
    }
    return names;
  }
  std::string pool_of_node(const std::string& node) {
    return cluster_->store().get({"", "nodes"}, "", node)["metadata"]["labels"].value("cloud.google.com/gke-nodepool",
                                                                                      "");
  }
  bool group_running(const std::string& group) {
    for (const std::string& name : group_pod_names(group, kWorkers)) {
      if (!cluster_->workers().contains(name) || cluster_->workers()[name].embed_dimensions == 0) return false;
    }
    return true;
  }
  std::string logs() { return "tpu-extender:\n" + cluster_->extender_output(); }

  // The first group's pods are placed one per host of one new pool, worker i on host i, each inferd
  // serving with its worker role. Returns the pool.
  std::string expect_group_placed(const std::string& group) {
    const std::vector<std::string> names = group_pod_names(group, kWorkers);
    const std::string pool = pool_of_node(node_of(names[0]));
    const std::vector<std::string> hosts = pool_nodes(pool);
    EXPECT_EQ(hosts.size(), 4u);
    std::string hostnames;
    for (int i = 0; i < kWorkers; ++i) {
      SCOPED_TRACE(names[i]);
      EXPECT_EQ(node_of(names[i]), hosts.at(i)) << "worker " << i << " belongs on host " << i;
      EXPECT_EQ(annotation(names[i], "tpustack.dev/worker-id"), std::to_string(i));
      EXPECT_EQ(annotation(names[i], "tpustack.dev/slice"), annotation(names[0], "tpustack.dev/slice"));
      const RunningWorker& worker = cluster_->workers().at(names[i]);
      EXPECT_EQ(worker.env.at("TPU_WORKER_ID"), std::to_string(i));
      EXPECT_EQ(worker.env.at("TPU_WORKER_HOSTNAMES"), annotation(names[0], "tpustack.dev/worker-hostnames"));
      EXPECT_EQ(worker.env.at("TPU_ACCELERATOR_TYPE"), "v6e-16");
      EXPECT_EQ(worker.info["worker"].value("role", ""), i == 0 ? "leader" : "follower");
      EXPECT_EQ(worker.info["worker"].value("workers", 0), kWorkers);
      EXPECT_GT(worker.embed_dimensions, 0);
    }
    return pool;
  }

  std::filesystem::path work_dir_;
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(StoryTest, GroupGetsAPoolRunsInferdAndASecondGroupWaitsForItsOwn) {
  create_jobset_group(cluster_->store(), "default", "group-a", "4x4", kWorkers, 4);
  ASSERT_TRUE(cluster_->run_until([&] { return group_running("group-a"); }, kStep)) << logs();
  const std::string first_pool = expect_group_placed("group-a");

  // Same shape while the first runs: it waits with the extender's reasons, then gets a pool of its own.
  create_jobset_group(cluster_->store(), "default", "group-b", "4x4", kWorkers, 4);
  const std::string leader_b = group_pod_names("group-b", kWorkers)[0];
  ASSERT_TRUE(
      cluster_->run_until([&] { return cluster_->scheduler().failures().contains("default/" + leader_b); }, kStep));
  EXPECT_THAT(cluster_->scheduler().failures().at("default/" + leader_b), HasSubstr("0/4 nodes are available"));
  ASSERT_TRUE(cluster_->run_until([&] { return group_running("group-b"); }, kStep)) << logs();
  const std::string second_pool = expect_group_placed("group-b");
  EXPECT_NE(second_pool, first_pool);

  // Done: after the grace period each pool is deleted and its nodes disappear.
  cluster_->finish_group("default", "group-a", kWorkers);
  ASSERT_TRUE(cluster_->run_until([&] { return pool_nodes(first_pool).empty(); }, kStep)) << logs();
  EXPECT_EQ(pool_nodes(second_pool).size(), 4u);
  cluster_->finish_group("default", "group-b", kWorkers);
  ASSERT_TRUE(cluster_->run_until([&] { return cluster_->nodes().empty(); }, kStep)) << logs();
  EXPECT_EQ(cluster_->pools_seen().size(), 2u);
  EXPECT_THAT(cluster_->violations(), ::testing::IsEmpty());
}

TEST_F(StoryTest, StoryCompletesWhenTheDevicePluginExtenderAndInferdAreKilledAndRestarted) {
  create_jobset_group(cluster_->store(), "default", "group-a", "4x4", kWorkers, 4);
  // The extender dies once the pool is on its way, and comes back: no second pool for the same group.
  ASSERT_TRUE(cluster_->run_until([&] { return !cluster_->pools_seen().empty(); }, kStep)) << logs();
  cluster_->kill_extender();
  cluster_->start_extender();
  // A device plugin dies once its node is up, and comes back; the kubelet's allocatable follows.
  ASSERT_TRUE(cluster_->run_until([&] { return cluster_->agents().size() == 4; }, kStep)) << logs();
  NodeAgent* third = std::next(cluster_->agents().begin(), 2)->second;
  ASSERT_TRUE(cluster_->run_until([&] { return third->healthy_chips() == 4; }, kStep)) << third->plugin_output();
  third->kill_plugin();
  EXPECT_EQ(third->healthy_chips(), 0);
  cluster_->tick();
  third->start_plugin();
  ASSERT_TRUE(cluster_->run_until([&] { return group_running("group-a"); }, kStep)) << logs();
  const std::string pool = expect_group_placed("group-a");

  // One worker's inferd dies and the kubelet restarts it: same role, answers again.
  const std::string follower = group_pod_names("group-a", kWorkers)[2];
  cluster_->workers().at(follower).inferd->signal(SIGKILL);
  cluster_->restart_worker(follower);
  EXPECT_EQ(cluster_->workers().at(follower).info["worker"].value("role", ""), "follower");
  EXPECT_GT(cluster_->workers().at(follower).embed_dimensions, 0);

  cluster_->finish_group("default", "group-a", kWorkers);
  ASSERT_TRUE(cluster_->run_until([&] { return cluster_->nodes().empty(); }, kStep)) << logs();
  EXPECT_EQ(cluster_->pools_seen(), std::set<std::string>{pool});
  EXPECT_THAT(cluster_->violations(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace tpustack::e2e
