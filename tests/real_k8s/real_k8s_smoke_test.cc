// The real kube-scheduler v1.20.2 (scripts/build-kubernetes.sh builds it) schedules a pod requesting
// google.com/tpu through the real tpu-extender: filter, prioritize and bind over HTTP, against a real
// kube-apiserver and etcd. Proves the control plane the real-Kubernetes tests stand on.
#include <gtest/gtest.h>

#include "common/kube/resource.h"
#include "tests/real_k8s/real_k8s_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using RealK8sSmokeTest = RealK8sTest;

TEST_F(RealK8sSmokeTest, SchedulerBindsATpuPodThroughTheExtender) {
  ASSERT_NO_FATAL_FAILURE(start_extender());
  start_scheduler();
  TpuNodeSpec node;  // one v6e 2x2 host: 4 chips
  node.name = "tpu-node-0";
  node.tpu_taint = true;
  cluster().create_tpu_node(node);

  ASSERT_THAT(client().create(kube::resources::kPods, "default", tpu_pod("single", "tpu-v6e-slice", "2x2", 4)),
              Succeeds());

  ASSERT_TRUE(wait_until([&] { return !pod("single")["spec"].value("nodeName", "").empty(); }, 60s))
      << pod("single").dump(2);
  const json bound = pod("single");
  EXPECT_EQ(bound["spec"].value("nodeName", ""), "tpu-node-0") << bound.dump(2);
  // tpu-extender bound it (its bind verb records the placement), not the scheduler's default binder.
  EXPECT_FALSE(bound["metadata"].value("annotations", json::object()).value("tpustack.dev/slice", "").empty())
      << bound.dump(2);
}

}  // namespace
}  // namespace tpustack::testing
