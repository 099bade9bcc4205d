// How soon groups bind under a scheduler whose queue behaves like kube-scheduler's: a rejected pod is parked
// and retried only on the events kube-scheduler knows of, or after its 5-minute flush. Before tpu-extender
// reserved slices at first sight and nudged waiting pods, followers created before their leader waited for
// that flush.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/jobset_group.h"
#include "tests/e2e/local_cluster.h"

namespace tpustack::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kWorkers = 4;
const fakes::GroupResource kNodes{"", "nodes"};

class GroupTiming : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (std::filesystem::temp_directory_path() / "timing-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    work_dir_ = dir;
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

TEST_F(GroupTiming, FollowersCreatedBeforeTheirLeaderBindWithinThreeSecondsOfAFreeSlice) {
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

TEST_F(GroupTiming, AProvisionedGroupBindsWithinThreeSecondsOfItsNodesBecomingReady) {
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

}  // namespace
}  // namespace tpustack::e2e
