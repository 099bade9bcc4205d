#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deviceplugin/discovery/sysfs_chips.h"
#include "tests/deviceplugin/fake_tpu_host.h"
#include "tests/deviceplugin/temp_dir.h"

namespace tpustack::deviceplugin {
namespace {

using testing::FakeTpuHost;
using testing::TempDir;
using topology::Generation;
using Paths = std::vector<std::string>;

TEST(SysfsChipsTest, V4HostUsesAccelNodes) {
  TempDir dir;
  const auto host = testing::write_fake_tpu_host(dir.path(), Generation::kV4, 4);
  const auto scan = scan_sysfs_chips(host.sysfs_root).value();
  ASSERT_EQ(scan.generation, Generation::kV4);
  ASSERT_EQ(scan.chips.size(), 4u);
  EXPECT_TRUE(scan.problems.empty());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(scan.chips[i].index, i);
    EXPECT_EQ(scan.chips[i].id, "accel" + std::to_string(i));
    EXPECT_EQ(scan.chips[i].device_paths, Paths{"/dev/accel" + std::to_string(i)});
    EXPECT_EQ(scan.chips[i].numa_node, 0);
  }
  EXPECT_EQ(scan.chips[2].pci_address, "0000:00:06");
  EXPECT_EQ(scan.chips[2].pci_functions, Paths{"0000:00:06.0"});
}

TEST(SysfsChipsTest, V5eEightChipHostHasTwoNumaNodesAndVfioGroups) {
  TempDir dir;
  const auto host = testing::write_fake_tpu_host(dir.path(), Generation::kV5e, 8);
  const auto scan = scan_sysfs_chips(host.sysfs_root).value();
  ASSERT_EQ(scan.generation, Generation::kV5e);
  ASSERT_EQ(scan.chips.size(), 8u);
  EXPECT_EQ(scan.chips[5].id, "vfio5");
  EXPECT_EQ(scan.chips[5].device_paths, (Paths{"/dev/vfio/5", "/dev/vfio/vfio"}));
  EXPECT_EQ(scan.chips[3].numa_node, 0);
  EXPECT_EQ(scan.chips[4].numa_node, 1);
}

TEST(SysfsChipsTest, V5pAndV6eFourChipHosts) {
  for (const auto generation : {Generation::kV5p, Generation::kV6e}) {
    TempDir dir;
    const auto host = testing::write_fake_tpu_host(dir.path(), generation, 4);
    const auto scan = scan_sysfs_chips(host.sysfs_root).value();
    EXPECT_EQ(scan.generation, generation);
    ASSERT_EQ(scan.chips.size(), 4u);
    EXPECT_EQ(scan.chips[0].id, "vfio0");
    EXPECT_EQ(scan.chips[3].device_paths, (Paths{"/dev/vfio/3", "/dev/vfio/vfio"}));
  }
}

TEST(SysfsChipsTest, Tpu7xGroupsTwoFunctionsPerChip) {
  TempDir dir;
  const auto host = testing::write_fake_tpu_host(dir.path(), Generation::kTpu7x, 4);
  const auto scan = scan_sysfs_chips(host.sysfs_root).value();
  ASSERT_EQ(scan.chips.size(), 4u);
  EXPECT_EQ(scan.chips[1].id, "vfio2");
  EXPECT_EQ(scan.chips[1].pci_functions, (Paths{"0000:00:05.0", "0000:00:05.1"}));
  EXPECT_EQ(scan.chips[1].device_paths, (Paths{"/dev/vfio/2", "/dev/vfio/3", "/dev/vfio/vfio"}));
}

TEST(SysfsChipsTest, NoTpuIsAnEmptyScan) {
  TempDir dir;
  const auto scan = scan_sysfs_chips(dir.path()).value();
  EXPECT_FALSE(scan.generation);
  EXPECT_TRUE(scan.chips.empty());
}

TEST(SysfsChipsTest, ChipWithoutIommuGroupIsAProblemNotAChip) {
  TempDir dir;
  const auto host = testing::write_fake_tpu_host(dir.path(), Generation::kV6e, 4);
  std::filesystem::remove(host.sysfs_root + "/bus/pci/devices/0000:00:05.0/iommu_group");
  const auto scan = scan_sysfs_chips(host.sysfs_root).value();
  EXPECT_EQ(scan.chips.size(), 3u);
  ASSERT_EQ(scan.problems.size(), 1u);
  EXPECT_THAT(scan.problems[0], ::testing::HasSubstr("0000:00:05"));
}

TEST(SysfsChipsTest, TwoGenerationsAreRefused) {
  TempDir dir;
  const auto host = testing::write_fake_tpu_host(dir.path(), Generation::kV6e, 4);
  const std::string odd = host.sysfs_root + "/bus/pci/devices/0000:01:00.0";
  std::filesystem::create_directories(odd);
  std::ofstream(odd + "/vendor") << "0x1ae0\n";
  std::ofstream(odd + "/device") << "0x0062\n";
  const auto scan = scan_sysfs_chips(host.sysfs_root);
  ASSERT_FALSE(scan);
  EXPECT_THAT(scan.error().message, ::testing::HasSubstr("holds TPUs of two generations"));
}

}  // namespace
}  // namespace tpustack::deviceplugin
