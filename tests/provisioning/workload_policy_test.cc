#include "extender/provisioning/workload_policy.h"

#include <gtest/gtest.h>

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

const WorkloadPolicyRef kRef{"proj", "us-central1", "tpustack-4x4x4", "4x4x4"};

json policy(const std::string& type, const std::string& topology) {
  return {{"name", "tpustack-4x4x4"}, {"workloadPolicy", {{"type", type}, {"acceleratorTopology", topology}}}};
}

TEST(WorkloadPolicy, AMissingPolicyIsAProblemWithTheCommandThatFixesIt) {
  auto problem = workload_policy_problem(kRef, nullptr);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("does not exist in proj/us-central1"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("gcloud compute resource-policies create workload-policy tpustack-4x4x4 "
                          "--type=HIGH_THROUGHPUT --accelerator-topology=4x4x4 --project=proj --region=us-central1"),
            std::string::npos)
      << *problem;
}

TEST(WorkloadPolicy, OnlyAHighThroughputPolicyOfTheTopologyServes) {
  EXPECT_FALSE(workload_policy_problem(kRef, policy("HIGH_THROUGHPUT", "4x4x4")));
  EXPECT_TRUE(workload_policy_problem(kRef, policy("HIGH_THROUGHPUT", "4x4x8")));
  EXPECT_TRUE(workload_policy_problem(kRef, policy("HIGH_AVAILABILITY", "4x4x4")));
}

TEST(WorkloadPolicy, ListKeepsOurWorkloadPolicies) {
  json list = {{"items",
                {{{"name", "tpustack-2x2x2"},
                  {"workloadPolicy", {{"type", "HIGH_THROUGHPUT"}, {"acceleratorTopology", "2x2x2"}}}},
                 {{"name", "other-2x2x2"}, {"workloadPolicy", {{"type", "HIGH_THROUGHPUT"}}}},
                 {{"name", "tpustack-snapshot"}, {"snapshotSchedulePolicy", json::object()}}}}};
  EXPECT_EQ(workload_policies(list, "tpustack-"), (std::map<std::string, std::string>{{"tpustack-2x2x2", "2x2x2"}}));
  EXPECT_TRUE(workload_policies(json::object(), "tpustack-").empty());
}

}  // namespace
}  // namespace tpustack::provisioning
