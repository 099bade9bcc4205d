#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/topology/generation.h"
#include "common/topology/host_grid.h"
#include "common/topology/slice_spec.h"
#include "common/topology/topology.h"

namespace tpustack::topology {
namespace {

using ::testing::HasSubstr;

// The Error's message, or "accepted".
template <class T>
std::string refusal(const Result<T>& result) {
  return result ? "accepted" : result.error().message;
}

TEST(GenerationTest, FactsOfEveryGeneration) {
  struct Row {
    std::string_view name, runtime, label;
    std::uint16_t pci;
    int tensorcores, rank, multi_host_vm;
    DeviceNodeStyle nodes;
  };
  const Row rows[] = {
      {"v4", "v4", "tpu-v4-podslice", 0x005e, 2, 3, 4, DeviceNodeStyle::kAccel},
      {"v5e", "v5litepod", "tpu-v5-lite-podslice", 0x0063, 1, 2, 4, DeviceNodeStyle::kVfio},
      {"v5p", "v5p", "tpu-v5p-slice", 0x0062, 2, 3, 4, DeviceNodeStyle::kVfio},
      {"v6e", "v6e", "tpu-v6e-slice", 0x006f, 1, 2, 4, DeviceNodeStyle::kVfio},
      {"tpu7x", "tpu7x", "tpu7x", 0x0076, 2, 3, 4, DeviceNodeStyle::kVfio},
  };
  ASSERT_EQ(all_generations().size(), std::size(rows));
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    const auto& g = info(parse_generation(row.name).value());
    EXPECT_EQ(g.runtime_name, row.runtime);
    EXPECT_EQ(g.accelerator_label, row.label);
    EXPECT_EQ(g.pci_device_id, row.pci);
    EXPECT_EQ(g.tensorcores_per_chip, row.tensorcores);
    EXPECT_EQ(g.topology_rank, row.rank);
    EXPECT_EQ(g.multi_host_chips_per_vm, row.multi_host_vm);
    EXPECT_EQ(g.device_nodes, row.nodes);
    EXPECT_EQ(parse_generation(row.label).value(), g.generation);
    EXPECT_EQ(parse_generation(row.runtime).value(), g.generation);
    Generation from_pci;
    ASSERT_TRUE(generation_for_pci_device(row.pci, from_pci));
    EXPECT_EQ(from_pci, g.generation);
  }
  EXPECT_EQ(info(Generation::kTpu7x).pci_functions_per_chip, 2);
  EXPECT_EQ(kGooglePciVendor, 0x1ae0);
}

TEST(GenerationTest, UnknownGenerationsAreRejectedWithTheAcceptedNames) {
  for (std::string_view bad : {"v3", "tpu-v4-device", "tpu-v4-lite-podslice", "tpu-v5-lite-device", "", "V6E"}) {
    const std::string message = refusal(parse_generation(bad));
    EXPECT_THAT(message, HasSubstr("unknown TPU generation")) << bad;
    EXPECT_THAT(message, HasSubstr("v6e (tpu-v6e-slice)")) << bad;
  }
  Generation g;
  EXPECT_FALSE(generation_for_pci_device(0x0027, g));  // v2/v3
  EXPECT_FALSE(generation_for_pci_device(0x0056, g));
}

TEST(GenerationTest, MachineTypes) {
  const std::pair<std::string_view, MachineType> rows[] = {
      {"ct4p-hightpu-4t", {Generation::kV4, 4}},      {"ct5lp-hightpu-1t", {Generation::kV5e, 1}},
      {"ct5lp-hightpu-4t", {Generation::kV5e, 4}},    {"ct5lp-hightpu-8t", {Generation::kV5e, 8}},
      {"ct5p-hightpu-4t", {Generation::kV5p, 4}},     {"ct6e-standard-1t", {Generation::kV6e, 1}},
      {"ct6e-standard-4t", {Generation::kV6e, 4}},    {"ct6e-standard-8t", {Generation::kV6e, 8}},
      {"tpu7x-standard-4t", {Generation::kTpu7x, 4}},
  };
  for (const auto& [text, m] : rows) {
    SCOPED_TRACE(text);
    const MachineType parsed = parse_machine_type(text).value();
    EXPECT_EQ(parsed.generation, m.generation);
    EXPECT_EQ(parsed.chips_per_vm, m.chips_per_vm);
    EXPECT_EQ(machine_type(m.generation, m.chips_per_vm).value(), text);
  }
  for (std::string_view bad : {"ct5p-hightpu-8t", "ct6e-standard-2t", "n2-standard-8", "ct6e-standard-t", ""}) {
    EXPECT_THAT(refusal(parse_machine_type(bad)), HasSubstr("unknown TPU machine type")) << bad;
  }
  EXPECT_THAT(refusal(machine_type(Generation::kV5p, 8)), HasSubstr("v5p has no VM with 8 chips"));
}

// Every shape of shared/reference/tpu-on-kubernetes.md §C.3 with its chips, hosts and machine type
// on the usual VM.
struct ShapeRow {
  std::string_view generation, topology;
  int chips, hosts;
  std::string_view machine_type;
};

TEST(TopologyTest, EveryDocumentedShape) {
  const ShapeRow rows[] = {
      // v6e (docs tpu/docs/v6e)
      {"v6e", "1x1", 1, 1, "ct6e-standard-1t"},
      {"v6e", "2x2", 4, 1, "ct6e-standard-4t"},
      {"v6e", "2x4", 8, 1, "ct6e-standard-8t"},
      {"v6e", "4x4", 16, 4, "ct6e-standard-4t"},
      {"v6e", "4x8", 32, 8, "ct6e-standard-4t"},
      {"v6e", "8x8", 64, 16, "ct6e-standard-4t"},
      {"v6e", "8x16", 128, 32, "ct6e-standard-4t"},
      {"v6e", "16x16", 256, 64, "ct6e-standard-4t"},
      // v5e (docs tpu/docs/v5e; multi-host on ct5lp-hightpu-4t)
      {"v5e", "1x1", 1, 1, "ct5lp-hightpu-1t"},
      {"v5e", "2x2", 4, 1, "ct5lp-hightpu-4t"},
      {"v5e", "2x4", 8, 1, "ct5lp-hightpu-8t"},
      {"v5e", "4x4", 16, 4, "ct5lp-hightpu-4t"},
      {"v5e", "4x8", 32, 8, "ct5lp-hightpu-4t"},
      {"v5e", "8x8", 64, 16, "ct5lp-hightpu-4t"},
      {"v5e", "8x16", 128, 32, "ct5lp-hightpu-4t"},
      {"v5e", "16x16", 256, 64, "ct5lp-hightpu-4t"},
      // v5p (docs tpu/docs/v5p)
      {"v5p", "2x2x1", 4, 1, "ct5p-hightpu-4t"},
      {"v5p", "2x2x2", 8, 2, "ct5p-hightpu-4t"},
      {"v5p", "2x4x4", 32, 8, "ct5p-hightpu-4t"},
      {"v5p", "4x4x4", 64, 16, "ct5p-hightpu-4t"},
      {"v5p", "4x4x8", 128, 32, "ct5p-hightpu-4t"},
      {"v5p", "4x8x8", 256, 64, "ct5p-hightpu-4t"},
      {"v5p", "8x8x8", 512, 128, "ct5p-hightpu-4t"},
      {"v5p", "8x8x16", 1024, 256, "ct5p-hightpu-4t"},
      {"v5p", "8x16x16", 2048, 512, "ct5p-hightpu-4t"},
      {"v5p", "16x16x16", 4096, 1024, "ct5p-hightpu-4t"},
      {"v5p", "16x16x24", 6144, 1536, "ct5p-hightpu-4t"},
      // xpk's generator shapes for v4 / v5p / tpu7x
      {"v4", "2x2x1", 4, 1, "ct4p-hightpu-4t"},
      {"v4", "2x2x2", 8, 2, "ct4p-hightpu-4t"},
      {"v4", "2x2x4", 16, 4, "ct4p-hightpu-4t"},
      {"v4", "2x4x4", 32, 8, "ct4p-hightpu-4t"},
      {"v4", "4x4x4", 64, 16, "ct4p-hightpu-4t"},
      {"v4", "8x4x4", 128, 32, "ct4p-hightpu-4t"},  // v4 does not require non-decreasing order
      {"v4", "16x16x16", 4096, 1024, "ct4p-hightpu-4t"},
      {"v5p", "2x2x4", 16, 4, "ct5p-hightpu-4t"},
      {"tpu7x", "2x2x1", 4, 1, "tpu7x-standard-4t"},
      {"tpu7x", "2x2x2", 8, 2, "tpu7x-standard-4t"},
      {"tpu7x", "2x4x4", 32, 8, "tpu7x-standard-4t"},
      {"tpu7x", "4x4x4", 64, 16, "tpu7x-standard-4t"},
      {"tpu7x", "16x16x36", 9216, 2304, "tpu7x-standard-4t"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(row.generation) + " " + std::string(row.topology));
    const Generation g = parse_generation(row.generation).value();
    const Topology t = parse_topology(g, row.topology).value();
    EXPECT_EQ(t.to_string(), row.topology);
    const SliceSpec spec = SliceSpec::with_default_host(g, t).value();
    EXPECT_EQ(spec.chips(), row.chips);
    EXPECT_EQ(spec.hosts(), row.hosts);
    EXPECT_EQ(spec.machine_type(), row.machine_type);
    EXPECT_EQ(spec.multi_host(), row.hosts > 1);
    EXPECT_EQ(SliceSpec::for_machine_type(t, row.machine_type).value(), spec);
  }
}

TEST(TopologyTest, HostCountFollowsTheVmSizeNotFourChipsAlways) {
  // tpu-provisioner computes ceil(chips/4) and would ask for 2 nodes here; the docs say 1 VM.
  EXPECT_EQ(SliceSpec::make("v6e", "2x4", 8)->hosts(), 1);
  EXPECT_EQ(SliceSpec::make("v5e", "2x4", 8)->hosts(), 1);
  EXPECT_EQ(SliceSpec::make("tpu-v5-lite-podslice", "2x4", 8)->machine_type(), "ct5lp-hightpu-8t");
  // The same shape on 4-chip VMs is two hosts ("only supported when using the GKE API").
  EXPECT_EQ(SliceSpec::make("v6e", "2x4", 4)->hosts(), 2);
  EXPECT_EQ(SliceSpec::make("v6e", "1x1", 1)->hosts(), 1);
  EXPECT_EQ(SliceSpec::make("v6e", "4x4", 4)->hosts(), 4);
}

TEST(TopologyTest, ImpossibleVmShapesAreRejected) {
  EXPECT_THAT(refusal(SliceSpec::make("v6e", "4x4", 8)),
              HasSubstr("multi-host v6e slices are built from ct6e-standard-4t"));
  EXPECT_THAT(refusal(SliceSpec::make("v6e", "2x2", 8)), HasSubstr("cannot hold exactly"));
  EXPECT_THAT(refusal(SliceSpec::make("v6e", "4x4", 1)), HasSubstr("multi-host"));
  EXPECT_THAT(refusal(SliceSpec::make("v5p", "2x2x2", 8)), HasSubstr("v5p has no VM with 8 chips"));
  EXPECT_THAT(refusal(SliceSpec::for_machine_type(Topology{2, {4, 4, 1}}, "ct5p-hightpu-4t")),
              HasSubstr("has 2 dimensions but v5p slices are 3D"));
  EXPECT_THAT(refusal(SliceSpec::make("v9", "4x4", 4)), HasSubstr("unknown TPU generation 'v9'"));
}

TEST(TopologyTest, InvalidTopologiesAreRejectedWithMessages) {
  struct Bad {
    std::string_view generation, topology, message;
  };
  const Bad rows[] = {
      {"v6e", "4x2", "v6e offers 1x1, 2x2, 2x4, 4x4, 4x8, 8x8, 8x16, 16x16"},
      {"v6e", "3x3", "is not a v6e slice shape"},
      {"v6e", "32x32", "is not a v6e slice shape"},
      {"v5e", "1x2", "is not a v5e slice shape"},
      {"v6e", "4x4x4", "has 3 dimensions but v6e slices are 2D"},
      {"v5p", "2x2", "has 2 dimensions but v5p slices are 3D"},
      {"v5p", "4x4x6", "multiple of 4"},
      {"v5p", "8x4x4", "non-decreasing order"},
      {"v5p", "2x2x3", "multiple of 4"},
      {"v5p", "16x16x40", "needs 160 cubes"},
      {"v4", "16x16x20", "needs 80 cubes"},
      {"tpu7x", "16x16x40", "needs 160 cubes"},
      {"v5p", "4x4x512", "multiple of 4 from 4 to 256"},
      {"v6e", "", "is not a TPU topology"},
      {"v6e", "4", "expected AxB or AxBxC"},
      {"v6e", "4x", "is not a TPU topology"},
      {"v6e", "x4", "is not a TPU topology"},
      {"v6e", "0x4", "is not a TPU topology"},
      {"v6e", "-4x4", "is not a TPU topology"},
      {"v6e", "axb", "is not a TPU topology"},
      {"v5p", "4x4x4x4", "is not a TPU topology"},
      {"v6e", "4 x4", "is not a TPU topology"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(row.generation) + " '" + std::string(row.topology) + "'");
    EXPECT_THAT(refusal(parse_topology(parse_generation(row.generation).value(), row.topology)),
                HasSubstr(row.message));
  }
}

TEST(TopologyTest, BoundsWrapAndAcceleratorType) {
  struct Row {
    std::string_view generation, topology;
    int chips_per_host;
    std::string_view accelerator_type;
    std::array<int, 3> host_bounds;
    std::array<bool, 3> wrap;
    bool resiliency;
  };
  const Row rows[] = {
      {"v6e", "4x4", 4, "v6e-16", {2, 2, 1}, {false, false, false}, false},
      {"v6e", "16x16", 4, "v6e-256", {8, 8, 1}, {true, true, false}, false},
      {"v6e", "8x16", 4, "v6e-128", {4, 8, 1}, {false, true, false}, false},
      {"v5e", "2x4", 8, "v5litepod-8", {1, 1, 1}, {false, false, false}, false},
      {"v5e", "4x4", 4, "v5litepod-16", {2, 2, 1}, {false, false, false}, false},
      {"v6e", "2x4", 4, "v6e-8", {1, 2, 1}, {false, false, false}, false},
      {"v5p", "2x2x1", 4, "v5p-8", {1, 1, 1}, {false, false, false}, false},
      {"v5p", "4x4x4", 4, "v5p-128", {2, 2, 4}, {true, true, true}, true},
      {"v5p", "2x4x4", 4, "v5p-64", {1, 2, 4}, {false, false, false}, false},
      {"v4", "2x2x2", 4, "v4-16", {1, 1, 2}, {false, false, false}, false},
      {"tpu7x", "4x4x8", 4, "tpu7x-256", {2, 2, 8}, {true, true, true}, true},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(row.generation) + " " + std::string(row.topology));
    const SliceSpec s = SliceSpec::make(row.generation, row.topology, row.chips_per_host).value();
    EXPECT_EQ(s.accelerator_type(), row.accelerator_type);
    EXPECT_EQ(s.host_bounds(), row.host_bounds);
    EXPECT_EQ(s.wrap(), row.wrap);
    EXPECT_EQ(s.ici_resiliency_default(), row.resiliency);
  }
}

TEST(HostGridTest, CoordinatesOfEveryHostSize) {
  EXPECT_EQ(chip_coordinates(1, 0), (ChipCoord{0, 0, 0}));
  // 4 chips: a 2x2 tile, y first.
  const ChipCoord four[] = {{0, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 0}};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(chip_coordinates(4, i), four[i]) << i;
  // 8 chips: two tiles stacked along y; chips 0-3 and 4-7 are 2x2 blocks (the two NUMA halves).
  const ChipCoord eight[] = {{0, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 0}, {0, 2, 0}, {0, 3, 0}, {1, 2, 0}, {1, 3, 0}};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(chip_coordinates(8, i), eight[i]) << i;
    EXPECT_EQ(chip_index(8, eight[i]), i);
  }
  // Chips and hosts that do not exist are programming errors: callers check what comes from outside first.
  EXPECT_THROW(chip_coordinates(8, 8), std::invalid_argument);
  EXPECT_THROW(chip_coordinates(3, 0), std::invalid_argument);
  EXPECT_THROW(chip_index(4, {2, 0, 0}), std::invalid_argument);
  EXPECT_EQ(block_bounds(2), (std::array<int, 3>{1, 2, 1}));
  EXPECT_THAT([] { block_bounds(3); }, testing::ThrowsMessage<std::invalid_argument>(HasSubstr("1, 2, 4 or 8 chips")));
}

TEST(HostGridTest, ChipBlocksAreLibtpuShapesAnywhereInTheGrid) {
  using Chips = std::vector<int>;
  for (const Chips& block : {Chips{6}, Chips{1, 0}, Chips{1, 4}, Chips{6, 7}, Chips{4, 5, 6, 7}, Chips{1, 3, 4, 6},
                             Chips{0, 1, 2, 3, 4, 5, 6, 7}}) {
    EXPECT_TRUE(is_chip_block(8, block)) << ::testing::PrintToString(block);
  }
  for (const Chips& other : {Chips{}, Chips{0, 7}, Chips{0, 2}, Chips{0, 3}, Chips{0, 1, 2}, Chips{0, 1, 6, 7},
                             Chips{0, 1, 4, 5}, Chips{1, 1}, Chips{7, 8}, Chips{0, 1, 2, 3, 4, 5}}) {
    EXPECT_FALSE(is_chip_block(8, other)) << ::testing::PrintToString(other);
  }
  EXPECT_TRUE(is_chip_block(4, {0, 1, 2, 3}));
  EXPECT_TRUE(is_chip_block(1, {0}));
  EXPECT_FALSE(is_chip_block(4, {0, 1, 2, 3, 4, 5, 6, 7}));
}

}  // namespace
}  // namespace tpustack::topology
