// Two tpu-extender replicas behind one Service (issue 13): any replica answers any verb, reservations are shared
// through the API server, and killing a replica at any moment neither promises a slice twice nor splits a group.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

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

constexpr int kGroups = 100;
constexpr int kSlices = 60;
constexpr int kHosts = 2;  // v6e 2x4 on 4-chip hosts
constexpr int kKills = 20;
const fakes::GroupResource kNodes{"", "nodes"};

class ExtenderReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    work_dir_ = tpustack::testing::make_temp_dir("replicas");
    ClusterOptions options;
    options.binary_dir = TPUSTACK_BINARY_DIR;
    options.work_dir = work_dir_;
    options.start_workers = false;
    options.node_agents = false;  // 120 static nodes, allocatable as created
    options.provisioner = "none";
    options.extender_replicas = 2;
    cluster_ = std::make_unique<LocalCluster>(options);
    for (int s = 0; s < kSlices; ++s) {
      for (int host = 0; host < kHosts; ++host) {
        json node = v6e_4x4_node("pool-" + std::to_string(s), host, 4);
        node["metadata"]["labels"]["cloud.google.com/gke-tpu-topology"] = "2x4";
        cluster_->store().create(kNodes, "", node);
      }
    }
    cluster_->start_extender();
  }
  void TearDown() override {
    if (killer_.joinable()) killer_.join();
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(work_dir_);
  }

  GroupTally tally(const std::set<std::string>& finished = {}) { return cluster_->tally_groups(kHosts, finished); }
  json ledger() {
    auto config_map = cluster_->store().find({"", "configmaps"}, kExtenderNamespace, "tpu-extender-reservations");
    return config_map ? json::parse((*config_map)["data"].value("reservations", "{}")) : json::object();
  }
  std::string logs() { return cluster_->diagnosis(kHosts); }

  // SIGKILLs one replica or the other at random moments, kKills times, each restarted on its address after a
  // moment (the scheduler meanwhile finds it refusing connections, then answering Errors while it lists). One
  // replica is down at a time: the next kill waits until the restarted one is ready.
  void start_killing(std::uint32_t seed) {
    killer_ = std::thread([this, seed] {
      std::mt19937 rng(seed);
      for (int k = 0; k < kKills; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(50, 600)(rng)));
        const int replica = std::uniform_int_distribution(0, 1)(rng);
        cluster_->kill_extender(replica);
        ++kills_;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(0, 300)(rng)));
        cluster_->start_extender(replica, false);
        const auto until = Clock::now() + 60s;
        while (!cluster_->extender_ready(replica) && Clock::now() < until) std::this_thread::sleep_for(20ms);
      }
    });
  }

  std::filesystem::path work_dir_;
  std::unique_ptr<LocalCluster> cluster_;
  std::thread killer_;
  std::atomic<int> kills_ = 0;
};

TEST_F(ExtenderReplicas, HundredGroupsRaceForSixtySlicesWhileReplicasAreKilledNoSliceTwiceNoGroupSplit) {
  const std::uint32_t seed = std::random_device{}();
  std::cerr << "seed " << seed << "\n";
  std::mt19937 rng(seed);
  // All 100 groups at once, their members created in random order.
  std::vector<std::pair<int, int>> members;
  for (int g = 0; g < kGroups; ++g) {
    for (int w = 0; w < kHosts; ++w) members.emplace_back(g, w);
  }
  std::shuffle(members.begin(), members.end(), rng);
  const auto start = Clock::now();
  for (const auto& [group, worker] : members) {
    create_jobset_group(cluster_->store(), "default", numbered_group(group), "2x4", kHosts, 4, {worker});
  }
  start_killing(seed);

  // Every slice goes to one whole group; the other 40 groups wait with nothing bound.
  ASSERT_TRUE(cluster_->run_until([&] { return tally().placed.size() == kSlices; }, 150s))
      << tally().placed.size() << " placed\n"
      << logs();
  std::cerr << "60 groups placed whole " << std::chrono::duration<double>(Clock::now() - start).count()
            << " s after submission, " << kills_ << " kills so far\n";
  GroupTally now = tally();
  EXPECT_EQ(now.waiting.size(), static_cast<std::size_t>(kGroups - kSlices));
  EXPECT_THAT(now.partial, ::testing::IsEmpty());

  // Ten groups finish: ten waiting groups take their slices, raced for on both replicas (kills may go on).
  std::set<std::string> finished(now.placed.begin(), now.placed.begin() + 10);
  for (const auto& group : finished) cluster_->finish_group("default", group, kHosts);
  ASSERT_TRUE(cluster_->run_until([&] { return tally(finished).placed.size() == kSlices; }, 120s))
      << tally(finished).placed.size() << " placed after 10 finished\n"
      << logs();

  killer_.join();
  EXPECT_EQ(kills_, kKills);
  ASSERT_TRUE(cluster_->extender_ready(0) && cluster_->extender_ready(1));
  cluster_->run_until([] { return false; }, 2s);  // both replicas up again: nothing moves any more
  now = tally(finished);
  EXPECT_EQ(now.placed.size(), static_cast<std::size_t>(kSlices));
  EXPECT_EQ(now.waiting.size(), static_cast<std::size_t>(kGroups - kSlices - 10));
  EXPECT_THAT(now.partial, ::testing::IsEmpty());
  EXPECT_THAT(cluster_->violations(), ::testing::IsEmpty());
  // The shared reservations name exactly the slices in use, each once.
  const json reservations = ledger();
  std::set<std::string> reserved;
  for (const auto& [group, entry] : reservations.items()) reserved.insert(entry.value("slice", ""));
  EXPECT_EQ(reserved.size(), static_cast<std::size_t>(kSlices)) << reservations.dump();
  EXPECT_EQ(reservations.size(), static_cast<std::size_t>(kSlices)) << reservations.dump();
  std::cerr << "finished in " << std::chrono::duration<double>(Clock::now() - start).count() << " s\n";
}

}  // namespace
}  // namespace tpustack::e2e
