#include <iostream>
#include <gtest/gtest.h>
#include "common/kube/resource.h"
#include "tests/real_k8s/real_k8s_fixture.h"
namespace tpustack::testing {
namespace {
using namespace std::chrono_literals;
using Scratch = RealK8sTest;
TEST_F(Scratch, LonePods) {
  for (int i = 0; i < 30; ++i) {
    TpuNodeSpec node; node.name = "n-" + std::to_string(i); node.tpu_taint = true; cluster().create_tpu_node(node);
  }
  ASSERT_NO_FATAL_FAILURE(start_extender());
  start_scheduler();
  for (int r = 0; r < 7; ++r) {
    const auto t0 = Clock::now();
    std::vector<std::string> names;
    for (int k = 0; k < 4; ++k) {
      names.push_back("p-" + std::to_string(r) + "-" + std::to_string(k));
      client().create(kube::resources::kPods, "default", tpu_pod(names.back(), "tpu-v6e-slice", "2x2", 4));
    }
    bool ok = wait_until([&] { for (auto& n : names) if (pod(n)["spec"].value("nodeName", "").empty()) return false; return true; }, 100s);
    std::cerr << "round " << r << " " << ok << " " << std::chrono::duration<double>(Clock::now() - t0).count() << "\n";
  }
  ADD_FAILURE() << "keep logs";
}
}  // namespace
}  // namespace tpustack::testing
