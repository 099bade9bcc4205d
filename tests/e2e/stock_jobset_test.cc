// Stock JobSets, as GKE users submit them (no TPU environment, no downward API, no schedulerName), through the
// fake API server with tpu-extender's admission webhook registered as the manifests register it: the webhook
// gives each pod its worker environment, and multislice JobSets are placed all or nothing.
#include <filesystem>
#include <map>
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

const fakes::GroupResource kPods{"", "pods"};
const fakes::GroupResource kNodes{"", "nodes"};
const fakes::GroupResource kWebhooks{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"};
constexpr int kWorkers = 4;  // v6e 4x4 on 4-chip hosts

std::map<std::string, std::string> env_of(const json& pod) {
  std::map<std::string, std::string> env;
  for (const json& var : pod["spec"]["containers"][0].value("env", json::array())) {
    env[var["name"]] = var.value("value", "");
  }
  return env;
}

class StockJobSet : public ::testing::Test {
 protected:
  void start(const std::string& provisioner, int free_slices) {
    work_dir_ = tpustack::testing::make_temp_dir("stock");
    ClusterOptions options;
    options.binary_dir = TPUSTACK_BINARY_DIR;
    options.work_dir = work_dir_;
    options.start_workers = false;
    options.node_agents = false;
    options.provisioner = provisioner;
    options.admission_webhook = true;
    cluster_ = std::make_unique<LocalCluster>(options);
    for (int s = 0; s < free_slices; ++s) add_slice("pool-" + std::to_string(s));
    cluster_->start_extender();
    // tpu-extender made its own CA and put it into the MutatingWebhookConfiguration: the API server trusts it.
    ASSERT_TRUE(cluster_->run_until(
        [&] {
          const json hooks = cluster_->store().get(kWebhooks, "", "tpu-extender-webhook");
          return !hooks["webhooks"][0]["clientConfig"].value("caBundle", "").empty();
        },
        30s))
        << cluster_->extender_output();
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(work_dir_);
  }

  void add_slice(const std::string& pool) {
    for (int host = 0; host < kWorkers; ++host) cluster_->store().create(kNodes, "", v6e_4x4_node(pool, host, 4));
  }
  // The JobSet and Job controllers' part: the pods, created through the API server (admission included).
  void submit(const std::string& name, int slices) {
    for (const json& pod : stock_jobset(cluster_->store(), "default", name, "4x4", kWorkers, 4, slices)) {
      auto reply = cluster_->create("/api/v1/namespaces/default/pods", pod);
      ASSERT_EQ(reply.status, 201) << reply.body;
    }
  }
  json pod(const std::string& name) { return cluster_->store().get(kPods, "default", name); }
  int bound(const std::string& jobset) {
    int count = 0;
    for (const json& p : cluster_->pods()) {
      if (p["metadata"]["labels"].value("jobset.sigs.k8s.io/jobset-name", "") == jobset &&
          !p["spec"].value("nodeName", "").empty()) {
        ++count;
      }
    }
    return count;
  }
  std::set<std::string> pools() {
    std::set<std::string> names;
    for (const json& node : cluster_->nodes())
      names.insert(node["metadata"]["labels"]["cloud.google.com/gke-nodepool"]);
    return names;
  }

  std::string work_dir_;
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(StockJobSet, ItsPodsGetTheirWorkerEnvironmentFromTheWebhookAndWorkerIRunsOnHostI) {
  start("none", 1);
  submit("train", 1);
  const auto names = group_pod_names("train", kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    const json p = pod(names[i]);
    EXPECT_EQ(p["spec"]["schedulerName"], "tpu-scheduler");
    EXPECT_THAT(p["spec"]["tolerations"].dump(), ::testing::HasSubstr("\"key\":\"google.com/tpu\""));
    const auto env = env_of(p);
    EXPECT_EQ(env.at("TPU_WORKER_ID"), std::to_string(i));
    EXPECT_EQ(env.at("TPU_WORKER_HOSTNAMES"),
              "train-workers-0-0.train,train-workers-0-1.train,train-workers-0-2.train,train-workers-0-3.train");
    EXPECT_FALSE(env.contains("MEGASCALE_NUM_SLICES"));
  }
  ASSERT_TRUE(cluster_->run_until([&] { return bound("train") == kWorkers; }, 60s)) << cluster_->extender_output();
  for (int i = 0; i < kWorkers; ++i) EXPECT_EQ(pod(names[i])["spec"]["nodeName"], "pool-0-" + std::to_string(i));
}

TEST_F(StockJobSet, TwoSlicesGetOneCoordinatorAndWithOneFreeSliceNeitherBinds) {
  start("none", 1);
  submit("multi", 2);
  for (int slice = 0; slice < 2; ++slice) {
    for (const std::string& name : group_pod_names("multi", kWorkers, slice)) {
      const auto env = env_of(pod(name));
      EXPECT_EQ(env.at("MEGASCALE_NUM_SLICES"), "2");
      EXPECT_EQ(env.at("MEGASCALE_SLICE_ID"), std::to_string(slice));
      EXPECT_EQ(env.at("MEGASCALE_COORDINATOR_ADDRESS"), "multi-workers-0-0.multi");
      EXPECT_EQ(env.at("MEGASCALE_PORT"), "8081");
    }
  }
  // One slice free, no provisioner: neither slice may start alone.
  cluster_->run_until([] { return false; }, 10s);
  EXPECT_EQ(bound("multi"), 0);
  // A second slice appears: both bind, each child Job on a slice of its own.
  add_slice("pool-1");
  ASSERT_TRUE(cluster_->run_until([&] { return bound("multi") == 2 * kWorkers; }, 60s)) << cluster_->extender_output();
  std::set<std::string> slice_pools[2];
  for (int slice = 0; slice < 2; ++slice) {
    for (const std::string& name : group_pod_names("multi", kWorkers, slice)) {
      const std::string node = pod(name)["spec"]["nodeName"];
      slice_pools[slice].insert(node.substr(0, node.rfind('-')));
    }
  }
  EXPECT_EQ(slice_pools[0].size(), 1u);
  EXPECT_EQ(slice_pools[1].size(), 1u);
  EXPECT_NE(slice_pools[0], slice_pools[1]);
}

TEST_F(StockJobSet, WithTheSimulatedProviderTwoPoolsAppearAndBothSlicesBind) {
  start("simulated", 0);
  submit("grow", 2);
  ASSERT_TRUE(cluster_->run_until([&] { return bound("grow") == 2 * kWorkers; }, 120s)) << cluster_->extender_output();
  EXPECT_EQ(pools().size(), 2u);
}

}  // namespace
}  // namespace tpustack::e2e
