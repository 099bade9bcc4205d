// tpu-extender's provisioner (`--provisioner simulated`) against the real kube-scheduler v1.20.2: a pod that
// no node fits is marked Unschedulable by the scheduler, a node pool of its shape appears, its nodes become
// Ready (the test plays their kubelets), and the scheduler places the pods there.
#include <algorithm>
#include <iostream>

#include <gtest/gtest.h>

#include "common/kube/resource.h"
#include "tests/real_k8s/real_k8s_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class RealK8sProvisioningTest : public RealK8sTest {
 protected:
  void start_provisioning_cluster() {
    create_cpu_node("default-pool-0");
    start_kubelets();
    ASSERT_NO_FATAL_FAILURE(
        start_extender({"--provisioner", "simulated", "--simulated-node-delay", "1s", "--no-leader-election"}));
    start_scheduler();
  }
  // The nodes of the pools tpu-extender created, by name.
  std::vector<json> provisioned_nodes() {
    kube::ListOptions options;
    options.label_selector = "tpustack.dev/managed-by=tpu-extender";
    std::vector<json> nodes = value_of(client().list(kube::resources::kNodes, "", options)).items;
    std::sort(nodes.begin(), nodes.end(), [](const json& a, const json& b) {
      return a["metadata"]["name"].get<std::string>() < b["metadata"]["name"].get<std::string>();
    });
    return nodes;
  }
  static std::string label(const json& node, const std::string& key) {
    return node["metadata"]["labels"].value(key, "");
  }
  // kube-scheduler retries a parked pod at a node's arrival after its backoff (at most 10 s in v1.20), or at its
  // one-minute flush when nothing moved it: a pod still waiting this long after its nodes are Ready was forgotten.
  static constexpr double kBindAfterReadySeconds = 15;

  // Seconds from `from` until the last of `nodes` was Ready.
  double seconds_to_ready(const std::vector<json>& nodes, Clock::time_point from) {
    Clock::time_point ready = from;
    for (const json& node : nodes) {
      auto since = kubelets().ready_since(node["metadata"]["name"].get<std::string>());
      if (since) ready = std::max(ready, *since);
    }
    return std::chrono::duration<double>(ready - from).count();
  }
};

TEST_F(RealK8sProvisioningTest, AGroupWithNoFreeSliceGetsAPoolOfItsShapeAndBindsWhole) {
  ASSERT_NO_FATAL_FAILURE(start_provisioning_cluster());
  const JobSetGroup group{"needs-a-pool"};
  const auto created = Clock::now();
  create_group_pods(group, {0, 1, 2, 3});
  ASSERT_TRUE(wait_until([&] { return all_bound(group); }, 60s)) << logs();
  const double bound = std::chrono::duration<double>(Clock::now() - created).count();

  const std::vector<json> nodes = provisioned_nodes();
  ASSERT_EQ(nodes.size(), 4u) << "one v6e 4x4 slice: four 4-chip hosts";
  std::vector<std::string> hosts;
  for (const json& node : nodes) {
    hosts.push_back(node["metadata"]["name"]);
    EXPECT_EQ(label(node, "cloud.google.com/gke-nodepool"), label(nodes[0], "cloud.google.com/gke-nodepool"));
    EXPECT_EQ(label(node, "cloud.google.com/gke-tpu-accelerator"), "tpu-v6e-slice");
    EXPECT_EQ(label(node, "cloud.google.com/gke-tpu-topology"), "4x4");
    EXPECT_EQ(label(node, "tpustack.dev/group"), group.job());
    EXPECT_EQ(label(node, "tpustack.dev/group-namespace"), "default");
  }
  expect_group_on(group, hosts);
  const double ready = seconds_to_ready(nodes, created);
  std::cerr << "provisioned group: pool Ready " << ready << " s after its pods were created, bound whole "
            << bound - ready << " s after that (" << kubelets().nodes_made_ready()
            << " nodes made Ready by the emulated kubelets)\n";
  EXPECT_LE(bound - ready, kBindAfterReadySeconds) << logs();
}

TEST_F(RealK8sProvisioningTest, ASingleHostPodWithNoFreeHostGetsAPoolAndBinds) {
  ASSERT_NO_FATAL_FAILURE(start_provisioning_cluster());
  const auto created = Clock::now();
  // A v5e 2x2 inference server: one ct5lp-hightpu-4t host, no group.
  ASSERT_THAT(client().create(kube::resources::kPods, "default", tpu_pod("server", "tpu-v5-lite-podslice", "2x2", 4)),
              Succeeds());
  ASSERT_TRUE(wait_until([&] { return !pod("server")["spec"].value("nodeName", "").empty(); }, 60s))
      << pod("server").dump(2) << "\n"
      << logs();
  const double bound = std::chrono::duration<double>(Clock::now() - created).count();

  const std::vector<json> nodes = provisioned_nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(pod("server")["spec"].value("nodeName", ""), nodes[0]["metadata"]["name"]);
  EXPECT_EQ(label(nodes[0], "node.kubernetes.io/instance-type"), "ct5lp-hightpu-4t");
  EXPECT_EQ(label(nodes[0], "cloud.google.com/gke-tpu-accelerator"), "tpu-v5-lite-podslice");
  EXPECT_EQ(label(nodes[0], "cloud.google.com/gke-tpu-topology"), "2x2");
  EXPECT_EQ(label(nodes[0], "tpustack.dev/group-namespace"), "default");
  const double ready = seconds_to_ready(nodes, created);
  std::cerr << "provisioned single-host pod: node Ready " << ready << " s after the pod was created, bound "
            << bound - ready << " s after that\n";
  EXPECT_LE(bound - ready, kBindAfterReadySeconds) << logs();
}

}  // namespace
}  // namespace tpustack::testing
