// How soon groups bind under a scheduler whose queue behaves like kube-scheduler's: a rejected pod is parked
// and retried only on the events kube-scheduler knows of, or after its 5-minute flush. Before tpu-extender
// reserved slices at first sight and nudged waiting pods, followers created before their leader waited for
// that flush.

#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/jobset_group.h"
#include "tests/e2e/local_cluster.h"
#include "tests/support/temp_dir.h"

namespace tpustack::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kWorkers = 4;
const fakes::GroupResource kNodes{"", "nodes"};

class RealisticQueue : public ::testing::Test {
 protected:
  void SetUp() override {
    work_dir_ = tpustack::testing::make_temp_dir("timing");
    ClusterOptions options;
    options.binary_dir = TPUSTACK_BINARY_DIR;
    options.work_dir = work_dir_;
    options.start_workers = false;  // each tick is a scheduling pass, not inferd start-ups
    cluster_ = std::make_unique<LocalCluster>(options);
    cluster_->start_extender();
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(work_dir_);
  }

  bool all_bound(const std::string& group) {
    for (const auto& name : group_pod_names(group, kWorkers)) {
      if (cluster_->store().get({"", "pods"}, "default", name)["spec"].value("nodeName", "").empty()) return false;
    }
    return true;
  }
  // Every node Ready with the device plugin's chips allocatable: the slice exists for the scheduler.
  bool slice_ready(std::size_t hosts) {
    std::size_t ready = 0;
    for (const json& node : cluster_->nodes()) {
      const json status = node.value("status", json::object());
      bool is_ready = false;
      for (const json& condition : status.value("conditions", json::array())) {
        is_ready = is_ready || (condition.value("type", "") == "Ready" && condition.value("status", "") == "True");
      }
      if (is_ready && status.value("allocatable", json::object()).value("google.com/tpu", "0") == "4") ++ready;
    }
    return ready == hosts;
  }
  // A v6e 4x4 pool that already exists, as a platform engineer's own node pool would.
  void create_pool(const std::string& pool) {
    for (int i = 0; i < kWorkers; ++i) {
      cluster_->store().create(kNodes, "", v6e_4x4_node(pool, i, 0));  // the device plugin adds the chips
    }
  }
  std::string logs() { return "tpu-extender:\n" + cluster_->extender_output(); }

  std::filesystem::path work_dir_;
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(RealisticQueue, FollowersCreatedBeforeTheirLeaderBindWithinThreeSecondsOfAFreeSlice) {
  create_pool("own-pool");
  ASSERT_TRUE(cluster_->run_until([&] { return slice_ready(kWorkers); }, 120s)) << logs();

  const auto start = Clock::now();
  create_jobset_group(cluster_->store(), "default", "late-leader", "4x4", kWorkers, 4, {3, 2, 1});
  // The leader comes a second later, so the scheduler's queue holds the followers first.
  ASSERT_FALSE(cluster_->run_until([] { return false; }, 1s));
  create_jobset_group(cluster_->store(), "default", "late-leader", "4x4", kWorkers, 4, {0});
  ASSERT_TRUE(cluster_->run_until([&] { return all_bound("late-leader"); }, 30s)) << logs();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cerr << "followers-first group bound whole " << seconds << " s after its first pod was created\n";
  EXPECT_LE(seconds, 3.0);
  for (int i = 0; i < kWorkers; ++i) {
    const auto name = group_pod_names("late-leader", kWorkers)[i];
    EXPECT_EQ(cluster_->store().get({"", "pods"}, "default", name)["spec"].value("nodeName", ""),
              "own-pool-" + std::to_string(i));
  }
  EXPECT_THAT(cluster_->violations(), ::testing::IsEmpty());
}

// kube-scheduler before 1.28 parks a pod whose filter found the extender away as it parks an unschedulable one,
// for 5 minutes unless something moves it; it writes reason SchedulerError on the pod. Once back, tpu-extender
// nudges such pods at once (the chaos test's extender restarts left groups pending for minutes before).
TEST_F(RealisticQueue, AGroupTriedWhileTheExtenderWasDownBindsWithinSecondsOfItsReturn) {
  create_pool("own-pool");
  ASSERT_TRUE(cluster_->run_until([&] { return slice_ready(kWorkers); }, 120s)) << logs();
  cluster_->kill_extender();
  create_jobset_group(cluster_->store(), "default", "while-down", "4x4", kWorkers, 4);
  const auto leader = group_pod_names("while-down", kWorkers)[0];
  ASSERT_TRUE(cluster_->run_until([&] { return cluster_->scheduler().failures().contains("default/" + leader); }, 30s));
  const json condition = cluster_->store().get({"", "pods"}, "default", leader)["status"]["conditions"][0];
  EXPECT_EQ(condition.value("reason", ""), "SchedulerError");
  EXPECT_THAT(condition.value("message", ""), ::testing::HasSubstr("/filter\": connection refused"));

  cluster_->start_extender();
  const auto back = Clock::now();
  ASSERT_TRUE(cluster_->run_until([&] { return all_bound("while-down"); }, 60s)) << logs();
  const double seconds = std::chrono::duration<double>(Clock::now() - back).count();
  std::cerr << "group tried while the extender was down bound whole " << seconds << " s after it came back\n";
  EXPECT_LE(seconds, 15.0);
  EXPECT_THAT(cluster_->violations(), ::testing::IsEmpty());
}

TEST_F(RealisticQueue, AProvisionedGroupBindsWithinThreeSecondsOfItsNodesBecomingReady) {
  const auto created = Clock::now();
  create_jobset_group(cluster_->store(), "default", "new-pool", "4x4", kWorkers, 4, {3, 2, 1, 0});
  ASSERT_TRUE(cluster_->run_until([&] { return slice_ready(kWorkers); }, 120s)) << logs();
  const auto ready = Clock::now();
  ASSERT_TRUE(cluster_->run_until([&] { return all_bound("new-pool"); }, 60s)) << logs();
  const double after_ready = std::chrono::duration<double>(Clock::now() - ready).count();
  std::cerr << "provisioned group: nodes Ready " << std::chrono::duration<double>(ready - created).count()
            << " s after creation, bound whole " << after_ready << " s after that\n";
  EXPECT_LE(after_ready, 3.0);
  EXPECT_EQ(cluster_->pools_seen().size(), 1u);
}

// A StatefulSet replica serving on one v5e 2x2 host (ct5lp-hightpu-4t), as written by the StatefulSet controller.
json replica(const std::string& statefulset, int index) {
  const std::string name = statefulset + "-" + std::to_string(index);
  const json tpu = {{"google.com/tpu", "4"}};
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", "default"},
        {"uid", name + "-uid"},
        {"labels", {{"app", statefulset}, {"apps.kubernetes.io/pod-index", std::to_string(index)}}},
        {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                          {"kind", "StatefulSet"},
                                          {"name", statefulset},
                                          {"uid", statefulset + "-uid"},
                                          {"controller", true}}})}}},
      {"spec",
       {{"schedulerName", "tpu-scheduler"},
        {"hostname", name},
        {"subdomain", statefulset},
        {"nodeSelector",
         {{"cloud.google.com/gke-tpu-accelerator", "tpu-v5-lite-podslice"},
          {"cloud.google.com/gke-tpu-topology", "2x2"}}},
        {"tolerations", json::array({{{"key", "google.com/tpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}})},
        {"containers", json::array({{{"name", "inferd"}, {"resources", {{"requests", tpu}, {"limits", tpu}}}}})}}},
      {"status", {{"phase", "Pending"}}}};
}

TEST_F(RealisticQueue, AStatefulSetOfSingleHostReplicasGetsOnePoolSizedToItAndShrinksWithIt) {
  const fakes::GroupResource pods{"", "pods"};
  for (int i = 0; i < 3; ++i) cluster_->store().create(pods, "default", replica("serve", i));
  auto bound = [&](int replicas) {
    for (int i = 0; i < replicas; ++i) {
      if (cluster_->store().get(pods, "default", "serve-" + std::to_string(i))["spec"].value("nodeName", "").empty()) {
        return false;
      }
    }
    return true;
  };
  auto v5e_nodes = [&] {
    std::set<std::string> pools;
    std::size_t count = 0;
    for (const json& node : cluster_->nodes()) {
      const json labels = node["metadata"].value("labels", json::object());
      if (labels.value("cloud.google.com/gke-tpu-accelerator", "") != "tpu-v5-lite-podslice") continue;
      EXPECT_EQ(labels.value("node.kubernetes.io/instance-type", ""), "ct5lp-hightpu-4t");
      pools.insert(labels.value("cloud.google.com/gke-nodepool", ""));
      ++count;
    }
    EXPECT_LE(pools.size(), 1u) << "one pool per workload and shape";
    return count;
  };
  ASSERT_TRUE(cluster_->run_until([&] { return bound(3); }, 120s)) << logs();
  EXPECT_EQ(v5e_nodes(), 3u);

  // Scaled to 1: the StatefulSet controller deletes the highest replicas; after the grace period (2 s here)
  // the pool keeps the one node in use.
  cluster_->store().remove(pods, "default", "serve-2");
  cluster_->store().remove(pods, "default", "serve-1");
  ASSERT_TRUE(cluster_->run_until([&] { return v5e_nodes() == 1; }, 60s)) << logs();
  EXPECT_EQ(cluster_->store().get(pods, "default", "serve-0")["spec"].value("nodeName", ""),
            cluster_->nodes().front()["metadata"].value("name", ""));
  EXPECT_EQ(cluster_->pools_seen().size(), 1u);
}

}  // namespace
}  // namespace tpustack::e2e
