#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/topology/container_environment.h"

namespace tpustack::topology {
namespace {

using Env = std::map<std::string, std::string>;

// The Error's message, or "accepted".
std::string refusal(const Result<Env>& env) { return env ? "accepted" : env.error().message; }

std::vector<AllocatedChip> chips(std::initializer_list<int> indices, int numa = 0) {
  std::vector<AllocatedChip> out;
  for (int i : indices) out.push_back({i, numa});
  return out;
}

// Every row of shared/reference/tpu-on-kubernetes.md §I.3, with every variable the row implies
// (TPU_SKIP_MDS_QUERY, TPU_TOPOLOGY_ALT and the unprefixed duplicates on slice accelerators).
Env slice_env(std::string topology, std::string type, std::string host_bounds, std::string chips_per_host,
              std::string wrap, std::string ports) {
  return {
      {"TPU_SKIP_MDS_QUERY", "true"},
      {"TPU_TOPOLOGY", topology},
      {"TPU_ACCELERATOR_TYPE", type},
      {"TPU_HOST_BOUNDS", host_bounds},
      {"HOST_BOUNDS", host_bounds},
      {"TPU_CHIPS_PER_HOST_BOUNDS", chips_per_host},
      {"CHIPS_PER_HOST_BOUNDS", chips_per_host},
      {"TPU_TOPOLOGY_WRAP", wrap},
      {"WRAP", wrap},
      {"TPU_TOPOLOGY_ALT", "false"},
      {"ALT", "false"},
      {"TPU_RUNTIME_METRICS_PORTS", ports},
  };
}

const std::string kFourPorts = "8431,8432,8433,8434";

TEST(ContainerEnvironmentTest, V6e4x4MultiHost) {
  const auto env = container_environment(SliceSpec::make("v6e", "4x4", 4).value(), chips({0, 1, 2, 3})).value();
  EXPECT_EQ(env, slice_env("4x4", "v6e-16", "2,2,1", "2,2,1", "false,false,false", kFourPorts));
}

TEST(ContainerEnvironmentTest, V6e16x16) {
  const auto env = container_environment(SliceSpec::make("v6e", "16x16", 4).value(), chips({0, 1, 2, 3})).value();
  EXPECT_EQ(env, slice_env("16x16", "v6e-256", "8,8,1", "2,2,1", "true,true,false", kFourPorts));
}

TEST(ContainerEnvironmentTest, V5p2x2x1SingleHost) {
  auto expected = slice_env("2x2x1", "v5p-8", "1,1,1", "2,2,1", "false,false,false", kFourPorts);
  expected["TPU_WORKER_ID"] = "0";
  expected["TPU_WORKER_HOSTNAMES"] = "localhost";
  EXPECT_EQ(container_environment(SliceSpec::make("v5p", "2x2x1", 4).value(), chips({0, 1, 2, 3})).value(), expected);
}

TEST(ContainerEnvironmentTest, V5p4x4x4CubeGetsResiliency) {
  auto expected = slice_env("4x4x4", "v5p-128", "2,2,4", "2,2,1", "true,true,true", kFourPorts);
  expected["ENABLE_ICI_RESILIENCY"] = "true";
  EXPECT_EQ(container_environment(SliceSpec::make("v5p", "4x4x4", 4).value(), chips({0, 1, 2, 3})).value(), expected);
  // The node label cloud.google.com/gke-tpu-ici-resiliency=false turns it off.
  const auto off =
      container_environment(SliceSpec::make("v5p", "4x4x4", 4).value(), chips({0, 1, 2, 3}), {true}).value();
  EXPECT_EQ(off.at("ENABLE_ICI_RESILIENCY"), "false");
}

TEST(ContainerEnvironmentTest, V5e2x4OnOneEightChipHost) {
  auto expected =
      slice_env("2x4", "v5litepod-8", "1,1,1", "2,4,1", "false,false,false", "8431,8432,8433,8434,8435,8436,8437,8438");
  expected["TPU_WORKER_ID"] = "0";
  expected["TPU_WORKER_HOSTNAMES"] = "localhost";
  EXPECT_EQ(container_environment(SliceSpec::make("v5e", "2x4", 8).value(), chips({0, 1, 2, 3, 4, 5, 6, 7})).value(),
            expected);
}

TEST(ContainerEnvironmentTest, V4TwoByTwoByTwo) {
  EXPECT_EQ(container_environment(SliceSpec::make("v4", "2x2x2", 4).value(), chips({3, 2, 1, 0})).value(),
            slice_env("2x2x2", "v4-16", "1,1,2", "2,2,1", "false,false,false", kFourPorts));
}

TEST(ContainerEnvironmentTest, SubHostAllocationsOfAnEightChipHost) {
  const SliceSpec host = SliceSpec::make("v6e", "2x4", 8).value();
  struct Row {
    std::vector<AllocatedChip> chips;
    std::string topology, type, bounds, visible, ports;
  };
  const Row rows[] = {
      {chips({5}), "1x1", "v6e-1", "1,1,1", "5", "8431"},
      {chips({0, 1}), "1x2", "v6e-2", "1,2,1", "0,1", "8431,8432"},
      {chips({4, 5, 6, 7}, 1), "2x2", "v6e-4", "2,2,1", "4,5,6,7", kFourPorts},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.visible);
    Env expected = slice_env(row.topology, row.type, "1,1,1", row.bounds, "false,false,false", row.ports);
    expected["TPU_VISIBLE_CHIPS"] = row.visible;
    expected["TPU_CHIPS_PER_PROCESS_BOUNDS"] = row.bounds;
    expected["TPU_PROCESS_BOUNDS"] = "1,1,1";
    expected["TPU_WORKER_ID"] = "0";
    expected["TPU_WORKER_HOSTNAMES"] = "localhost";
    EXPECT_EQ(container_environment(host, row.chips).value(), expected);
  }
}

TEST(ContainerEnvironmentTest, Tpu7xHasTwoAcceleratorsPerChipAndNoWorkerVariables) {
  const auto env =
      container_environment(SliceSpec::make("tpu7x", "2x2x1", 4).value(), {{0, 0}, {1, 0}, {2, 1}, {3, 1}}).value();
  EXPECT_EQ(env.at("TPU_ACCELERATOR_TYPE"), "tpu7x-8");
  EXPECT_EQ(env.at("TPU_RUNTIME_METRICS_PORTS"), "8431,8432,8433,8434,8435,8436,8437,8438");
  EXPECT_EQ(env.at("WORKLOAD_NIC_PREFERRED_NUMA"), "0,1");
  EXPECT_FALSE(env.contains("TPU_WORKER_ID"));
}

TEST(ContainerEnvironmentTest, BadChipSetsAreRejected) {
  const SliceSpec host = SliceSpec::make("v6e", "2x4", 8).value();
  EXPECT_FALSE(container_environment(host, {}));
  EXPECT_FALSE(container_environment(host, chips({0, 0})));
  EXPECT_FALSE(container_environment(host, chips({8})));
  EXPECT_THAT(refusal(container_environment(host, chips({0, 1, 2}))), testing::HasSubstr("1, 2, 4 or all 8 chips"));
}

TEST(ContainerEnvironmentTest, ChipsOutsideOneBlockAreRejected) {
  // These got TPU_CHIPS_PER_HOST_BOUNDS=1,2,1 and 2,2,1 for chips that are no such block.
  const SliceSpec host = SliceSpec::make("v6e", "2x4", 8).value();
  EXPECT_THAT(refusal(container_environment(host, chips({0, 7}))), testing::HasSubstr("chips 0,7 are not a 1x2 block"));
  EXPECT_THAT(refusal(container_environment(host, chips({0, 1, 6, 7}))),
              testing::HasSubstr("chips 0,1,6,7 are not a 2x2 block"));
  // Neighbours along x, but a 2-chip process is 1x2.
  EXPECT_FALSE(container_environment(host, chips({0, 2})));
  // Not aligned to the NUMA halves, yet a 2x2 block of the grid (y = 1..2).
  EXPECT_EQ(container_environment(host, chips({1, 3, 4, 6})).value().at("TPU_VISIBLE_CHIPS"), "1,3,4,6");
}

}  // namespace
}  // namespace tpustack::topology
