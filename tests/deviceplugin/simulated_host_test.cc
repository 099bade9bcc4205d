#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deviceplugin/cli/host_description.h"
#include "deviceplugin/discovery/simulated_host.h"

namespace tpustack::deviceplugin {
namespace {

using ::testing::HasSubstr;

TEST(SimulateSpecTest, ReadsGenerationTopologyAndHostSize) {
  const auto one_of_four = parse_simulate_spec("v6e:4x4:4").value();
  EXPECT_EQ(one_of_four.hosts(), 4);
  EXPECT_EQ(one_of_four.chips_per_host(), 4);
  EXPECT_EQ(parse_simulate_spec("v5e:2x4:8").value().hosts(), 1);
  EXPECT_EQ(parse_simulate_spec("v5e:2x4").value().chips_per_host(), 8);  // the usual VM for 2x4
  EXPECT_EQ(parse_simulate_spec("tpu-v6e-slice:4x4").value().machine_type(), "ct6e-standard-4t");
  EXPECT_EQ(parse_simulate_spec("v5p:2x2x2").value().hosts(), 2);
}

TEST(SimulateSpecTest, RejectsWhatNoVmCanBe) {
  const auto refusal = [](std::string_view spec) {
    const auto slice = parse_simulate_spec(spec);
    return slice ? std::string("no error") : slice.error().message;
  };
  EXPECT_THAT(refusal("v6e"), HasSubstr("GEN:TOPOLOGY[:CHIPS_PER_HOST]"));
  EXPECT_THAT(refusal("v6e:4x4:x"), HasSubstr("CHIPS_PER_HOST must be a number"));
  EXPECT_THAT(refusal("v6e:4x4:8"), HasSubstr("multi-host v6e slices are built from ct6e-standard-4t"));
  EXPECT_THAT(refusal("v9:4x4"), HasSubstr("unknown TPU generation 'v9'"));
}

TEST(SimulatedChipsTest, DeviceNodesFollowTheGeneration) {
  const auto v4 = simulated_chips(parse_simulate_spec("v4:2x2x2").value());
  ASSERT_EQ(v4.size(), 4u);
  EXPECT_EQ(v4[3].device_paths, (std::vector<std::string>{"/dev/accel3"}));
  const auto v5e = simulated_chips(parse_simulate_spec("v5e:2x4:8").value());
  ASSERT_EQ(v5e.size(), 8u);
  EXPECT_EQ(v5e[5].device_paths, (std::vector<std::string>{"/dev/vfio/5", "/dev/vfio/vfio"}));
  EXPECT_EQ(v5e[3].numa_node, 0);
  EXPECT_EQ(v5e[4].numa_node, 1);
  EXPECT_EQ(v5e[0].pci_address, "0000:00:04");
}

TEST(HostDescriptionTest, ShowsChipsAndEnvironment) {
  const auto slice = parse_simulate_spec("v6e:4x4:4").value();
  const std::string text = describe_host(slice, simulated_chips(slice));
  EXPECT_THAT(text, HasSubstr("TPU v6e slice 4x4: 16 chips on 4 hosts of ct6e-standard-4t"));
  EXPECT_THAT(text, HasSubstr("TPU_ACCELERATOR_TYPE=v6e-16"));
  EXPECT_THAT(text, HasSubstr("TPU_HOST_BOUNDS=2,2,1"));
  EXPECT_THAT(text, HasSubstr("TPU_VISIBLE_CHIPS=0,1"));
}

}  // namespace
}  // namespace tpustack::deviceplugin
