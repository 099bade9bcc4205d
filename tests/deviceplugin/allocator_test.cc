#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deviceplugin/allocator/container_allocation.h"
#include "deviceplugin/allocator/preferred_allocation.h"
#include "tests/deviceplugin/running_plugin.h"
#include "tests/support/result_matchers.h"

namespace tpustack::deviceplugin {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;
using Ids = std::vector<std::string>;

HostInventory inventory(const std::string& simulate) { return testing::simulated_inventory(simulate); }

Ids all_ids(const HostInventory& inv) {
  Ids ids;
  for (const auto& chip : inv.chips) ids.push_back(chip.id);
  return ids;
}

// Rows of shared/reference/tpu-on-kubernetes.md §I.3: whole-host allocations.
struct WholeHostRow {
  std::string simulate, topology, accelerator_type, host_bounds, chips_per_host_bounds, wrap, worker_id;
};

TEST(AllocateTest, WholeHostMatchesReferenceRows) {
  const std::vector<WholeHostRow> rows = {
      {"v6e:4x4:4", "4x4", "v6e-16", "2,2,1", "2,2,1", "false,false,false", ""},
      {"v6e:16x16:4", "16x16", "v6e-256", "8,8,1", "2,2,1", "true,true,false", ""},
      {"v5p:2x2x1:4", "2x2x1", "v5p-8", "1,1,1", "2,2,1", "false,false,false", "0"},
      {"v5p:4x4x4:4", "4x4x4", "v5p-128", "2,2,4", "2,2,1", "true,true,true", ""},
      {"v5e:2x4:8", "2x4", "v5litepod-8", "1,1,1", "2,4,1", "false,false,false", "0"},
      {"v4:2x2x2:4", "2x2x2", "v4-16", "1,1,2", "2,2,1", "false,false,false", ""},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.simulate);
    const auto inv = inventory(row.simulate);
    const auto out = value_of(allocate_container(inv, all_ids(inv)));
    EXPECT_EQ(out.envs.at("TPU_TOPOLOGY"), row.topology);
    EXPECT_EQ(out.envs.at("TPU_ACCELERATOR_TYPE"), row.accelerator_type);
    EXPECT_EQ(out.envs.at("TPU_HOST_BOUNDS"), row.host_bounds);
    EXPECT_EQ(out.envs.at("TPU_CHIPS_PER_HOST_BOUNDS"), row.chips_per_host_bounds);
    EXPECT_EQ(out.envs.at("TPU_TOPOLOGY_WRAP"), row.wrap);
    EXPECT_EQ(out.envs.at("TPU_SKIP_MDS_QUERY"), "true");
    if (row.worker_id.empty()) {
      EXPECT_FALSE(out.envs.contains("TPU_WORKER_ID"));
    } else {
      EXPECT_EQ(out.envs.at("TPU_WORKER_ID"), row.worker_id);
      EXPECT_EQ(out.envs.at("TPU_WORKER_HOSTNAMES"), "localhost");
    }
    ASSERT_EQ(out.mounts.size(), 1u);
    EXPECT_EQ(out.mounts[0].container_path, "/tmp/tpu_logs");
    EXPECT_FALSE(out.mounts[0].read_only);
  }
}

TEST(AllocateTest, DeviceNodesAreMrwAndVfioContainerIsSharedOnce) {
  const auto inv = inventory("v5e:2x4:8");
  const auto out = value_of(allocate_container(inv, {"vfio3", "vfio2"}));
  ASSERT_EQ(out.devices.size(), 3u);
  EXPECT_EQ(out.devices[0].host_path, "/dev/vfio/2");
  EXPECT_EQ(out.devices[1].host_path, "/dev/vfio/vfio");
  EXPECT_EQ(out.devices[2].host_path, "/dev/vfio/3");
  for (const auto& d : out.devices) {
    EXPECT_EQ(d.permissions, "mrw");
    EXPECT_EQ(d.container_path, d.host_path);
  }
  const auto v4 = value_of(allocate_container(inventory("v4:2x2x2:4"), {"accel1"}));
  ASSERT_EQ(v4.devices.size(), 1u);
  EXPECT_EQ(v4.devices[0].host_path, "/dev/accel1");
}

TEST(AllocateTest, SimulatedChipsWithoutDeviceNodesGetTheEnvironmentOnly) {
  auto inv = inventory("v6e:4x4:4");
  inv.hand_out_device_nodes = false;
  const auto out = value_of(allocate_container(inv, {"vfio0", "vfio1", "vfio2", "vfio3"}));
  EXPECT_TRUE(out.devices.empty());
  EXPECT_EQ(out.envs.at("TPU_TOPOLOGY"), "4x4");
  EXPECT_EQ(out.mounts.size(), 1u);
}

TEST(AllocateTest, SubHostSetsGetTheSharedModelEnvironment) {
  const auto inv = inventory("v6e:2x4:8");
  for (const Ids& ids : {Ids{"vfio5"}, Ids{"vfio4", "vfio5"}, Ids{"vfio4", "vfio5", "vfio6", "vfio7"}}) {
    SCOPED_TRACE(ids.size());
    const auto out = value_of(allocate_container(inv, ids));
    std::vector<topology::AllocatedChip> chips;
    for (const auto& id : ids) chips.push_back({std::stoi(id.substr(4)), 1});
    EXPECT_EQ(out.envs, topology::container_environment(inv.slice, chips).value());
    EXPECT_TRUE(out.envs.contains("TPU_VISIBLE_CHIPS"));
  }
}

TEST(AllocateTest, IsIdempotent) {
  const auto inv = inventory("v5e:2x4:8");
  const auto first = value_of(allocate_container(inv, {"vfio0", "vfio1"}));
  const auto again = value_of(allocate_container(inv, {"vfio1", "vfio0"}));
  EXPECT_EQ(first.envs, again.envs);
  ASSERT_EQ(first.devices.size(), again.devices.size());
  for (size_t i = 0; i < first.devices.size(); ++i) EXPECT_EQ(first.devices[i].host_path, again.devices[i].host_path);
}

TEST(AllocateTest, BadRequestsNameTheDevice) {
  auto inv = inventory("v6e:2x4:8");
  EXPECT_THAT(allocate_container(inv, {"vfio0", "vfio9"}), FailsWith(HasSubstr("unknown device ID 'vfio9'")));
  EXPECT_THAT(allocate_container(inv, {"vfio1", "vfio1"}), FailsWith(HasSubstr("'vfio1' is listed twice")));
  EXPECT_THAT(allocate_container(inv, {"vfio0", "vfio1", "vfio2"}), FailsWith(HasSubstr("[vfio0, vfio1, vfio2]")));
  EXPECT_THAT(allocate_container(inv, {}), FailsWith(HasSubstr("names no device IDs")));
  inv.healthy[6] = false;
  const auto unhealthy = allocate_container(inv, {"vfio6", "vfio7"});
  EXPECT_THAT(unhealthy, FailsWith(HasSubstr("'vfio6' is Unhealthy")));
  if (!unhealthy) {
    EXPECT_EQ(unhealthy.error().kind, ErrorKind::kFailedPrecondition);
  }
}

TEST(AllocateTest, RefusesChipSetsThatAreNoLibtpuBlock) {
  // These got TPU_CHIPS_PER_HOST_BOUNDS=1,2,1 with TPU_VISIBLE_CHIPS=0,7, and 2,2,1 for four chips in two tiles.
  const auto inv = inventory("v6e:2x4:8");
  EXPECT_THAT(allocate_container(inv, {"vfio7", "vfio0"}),
              FailsWith(AllOf(HasSubstr("device IDs [vfio0, vfio7] are not a chip set libtpu can run on"),
                              HasSubstr("not a 1x2 block of ICI neighbours"))));
  EXPECT_THAT(
      allocate_container(inv, {"vfio0", "vfio1", "vfio6", "vfio7"}),
      FailsWith(AllOf(HasSubstr("[vfio0, vfio1, vfio6, vfio7]"), HasSubstr("not a 2x2 block of ICI neighbours"))));
  // Neighbours along x; a 2-chip process is 1x2.
  EXPECT_FALSE(allocate_container(inv, {"vfio0", "vfio2"}));
  // A 2x2 block across the two NUMA halves is still a block.
  EXPECT_EQ(value_of(allocate_container(inv, {"vfio1", "vfio3", "vfio4", "vfio6"})).envs.at("TPU_VISIBLE_CHIPS"),
            "1,3,4,6");
}

TEST(AllocateTest, AChipInTwoContainersOfOneRequestIsRefused) {
  const auto inv = inventory("v5e:2x4:8");
  EXPECT_THAT(allocate_request(inv, {{"vfio0", "vfio1"}, {"vfio4"}, {"vfio1"}}),
              FailsWith(HasSubstr("device ID 'vfio1' is requested by containers 0 and 2")));
  const auto both = value_of(allocate_request(inv, {{"vfio0", "vfio1"}, {"vfio4", "vfio5", "vfio6", "vfio7"}}));
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].envs.at("TPU_VISIBLE_CHIPS"), "0,1");
  EXPECT_EQ(both[1].envs.at("TPU_VISIBLE_CHIPS"), "4,5,6,7");
}

TEST(PreferredAllocationTest, WholeHostAndBlocks) {
  const auto inv = inventory("v5e:2x4:8");
  EXPECT_EQ(value_of(preferred_allocation(inv, {all_ids(inv), {}, 8})), all_ids(inv));
  EXPECT_EQ(value_of(preferred_allocation(inv, {all_ids(inv), {}, 4})), (Ids{"vfio0", "vfio1", "vfio2", "vfio3"}));
  // Must-include chip 5 pulls the 4-block into the second NUMA node.
  EXPECT_EQ(value_of(preferred_allocation(inv, {all_ids(inv), {"vfio5"}, 4})),
            (Ids{"vfio4", "vfio5", "vfio6", "vfio7"}));
  EXPECT_EQ(value_of(preferred_allocation(inv, {all_ids(inv), {"vfio5"}, 2})), (Ids{"vfio4", "vfio5"}));
}

TEST(PreferredAllocationTest, HonoursAvailableIds) {
  const auto inv = inventory("v6e:2x4:8");
  const Ids available = {"vfio1", "vfio2", "vfio3", "vfio4", "vfio5", "vfio6", "vfio7"};
  const auto chosen = value_of(preferred_allocation(inv, {available, {}, 4}));
  EXPECT_EQ(chosen, (Ids{"vfio4", "vfio5", "vfio6", "vfio7"}));
  const auto pair = value_of(preferred_allocation(inv, {available, {}, 2}));
  ASSERT_EQ(pair.size(), 2u);
  for (const auto& id : pair) EXPECT_NE(id, "vfio0");
}

TEST(PreferredAllocationTest, EveryHostSize) {
  for (const std::string spec : {"v4:2x2x2:4", "v5p:2x2x2:4", "v6e:4x4:4", "v5e:2x2:4", "v6e:1x1:1", "tpu7x:2x2x1:4"}) {
    SCOPED_TRACE(spec);
    const auto inv = inventory(spec);
    const auto ids = all_ids(inv);
    EXPECT_EQ(value_of(preferred_allocation(inv, {ids, {}, static_cast<int>(ids.size())})), ids);
    EXPECT_EQ(value_of(preferred_allocation(inv, {ids, {}, 1})), Ids{ids.front()});
  }
}

TEST(PreferredAllocationTest, BadRequests) {
  const auto inv = inventory("v6e:4x4:4");
  EXPECT_THAT(preferred_allocation(inv, {{"vfio0", "vfioX"}, {}, 1}), FailsWith(HasSubstr("'vfioX'")));
  EXPECT_THAT(preferred_allocation(inv, {{"vfio0", "vfio1"}, {"vfio2"}, 2}),
              FailsWith(HasSubstr("must-include device ID 'vfio2'")));
  EXPECT_THAT(preferred_allocation(inv, {{"vfio0", "vfio1"}, {}, 3}), FailsWith(HasSubstr("cannot choose 3 of 2")));
}

TEST(PreferredAllocationTest, SizesWithoutALibtpuShapeAreErrors) {
  // Size 3 used to be answered with three chips, which Allocate then refused.
  const auto inv = inventory("v5e:2x4:8");
  for (int size : {3, 5, 6, 7}) {
    EXPECT_THAT(preferred_allocation(inv, {all_ids(inv), {}, size}),
                FailsWith(HasSubstr("1, 2, 4 or all 8 chips of a host, not " + std::to_string(size))));
  }
  // Two free chips, but no 1x2 block among them.
  EXPECT_THAT(preferred_allocation(inv, {{"vfio0", "vfio7"}, {}, 2}),
              FailsWith(HasSubstr("no 1x2 block of ICI neighbours is free among chips 0,7")));
}

TEST(PreferredAllocationTest, NeverOffersASetAllocateRefuses) {
  auto inv = inventory("v6e:2x4:8");
  inv.healthy[5] = false;
  const auto ids = all_ids(inv);
  for (int mask = 1; mask < 256; ++mask) {
    Ids available;
    for (int i = 0; i < 8; ++i) {
      if (mask & (1 << i)) available.push_back(ids[i]);
    }
    for (int size = 1; size <= 8; ++size) {
      for (const Ids& must : {Ids{}, Ids{available.back()}}) {
        const auto chosen = preferred_allocation(inv, {available, must, size});
        if (!chosen) continue;
        SCOPED_TRACE(::testing::PrintToString(available) + " size " + std::to_string(size));
        EXPECT_EQ(chosen->size(), static_cast<size_t>(size));
        EXPECT_TRUE(allocate_container(inv, *chosen)) << ::testing::PrintToString(*chosen);
      }
    }
  }
}

TEST(PreferredAllocationTest, LeavesOutUnhealthyChips) {
  auto inv = inventory("v5e:2x4:8");
  inv.healthy[0] = false;
  EXPECT_EQ(value_of(preferred_allocation(inv, {all_ids(inv), {}, 2})), (Ids{"vfio2", "vfio3"}));
  const auto unhealthy = preferred_allocation(inv, {all_ids(inv), {"vfio0"}, 2});
  EXPECT_THAT(unhealthy, FailsWith(HasSubstr("'vfio0' is Unhealthy")));
  if (!unhealthy) {
    EXPECT_EQ(unhealthy.error().kind, ErrorKind::kFailedPrecondition);
  }
}

TEST(PreferredAllocationTest, ContainersOfOneRequestGetDifferentChips) {
  const auto inv = inventory("v5e:2x4:8");
  EXPECT_EQ(value_of(preferred_allocations(inv, {{all_ids(inv), {}, 4}, {all_ids(inv), {}, 4}})),
            (std::vector<Ids>{{"vfio0", "vfio1", "vfio2", "vfio3"}, {"vfio4", "vfio5", "vfio6", "vfio7"}}));
  EXPECT_THAT(preferred_allocations(inv, {{all_ids(inv), {}, 2}, {all_ids(inv), {"vfio1"}, 2}}),
              FailsWith(HasSubstr("'vfio1' of container 1 is already chosen for container 0")));
}

}  // namespace
}  // namespace tpustack::deviceplugin
