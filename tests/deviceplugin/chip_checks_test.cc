#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deviceplugin/discovery/simulated_host.h"
#include "deviceplugin/discovery/sysfs_chips.h"
#include "deviceplugin/health/check_command.h"
#include "deviceplugin/health/chip_checks.h"
#include "deviceplugin/health/health_monitor.h"
#include "tests/deviceplugin/fake_tpu_host.h"
#include "tests/deviceplugin/temp_dir.h"

namespace tpustack::deviceplugin {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

class ChipChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = testing::write_fake_tpu_host(dir_.path(), topology::Generation::kV6e, 4);
    chips_ = scan_sysfs_chips(host_.sysfs_root).value().chips;
    settings_.sysfs_root = host_.sysfs_root;
    settings_.dev_root = host_.dev_root;
  }
  TempDir dir_;
  testing::FakeTpuHost host_;
  std::vector<Chip> chips_;
  HealthCheckSettings settings_;
};

TEST_F(ChipChecksTest, HealthyHost) {
  for (const auto& chip : chips_) EXPECT_TRUE(check_chip(chip, settings_).healthy) << chip.id;
}

TEST_F(ChipChecksTest, MissingDeviceNode) {
  fs::remove(host_.dev_root + "/vfio/2");
  const auto check = check_chip(chips_[2], settings_);
  EXPECT_FALSE(check.healthy);
  EXPECT_EQ(check.reason, "/dev/vfio/2 is missing");
  EXPECT_TRUE(check_chip(chips_[1], settings_).healthy);
}

TEST_F(ChipChecksTest, SharedVfioContainerMissingFailsEveryChip) {
  fs::remove(host_.dev_root + "/vfio/vfio");
  for (const auto& chip : chips_) EXPECT_FALSE(check_chip(chip, settings_).healthy);
}

TEST_F(ChipChecksTest, PciDeviceGoneOffTheBusOrUnbound) {
  std::ofstream(host_.sysfs_root + "/bus/pci/devices/0000:00:05.0/vendor") << "0xffff\n";
  EXPECT_THAT(check_chip(chips_[1], settings_).reason, HasSubstr("reads vendor '0xffff'"));
  fs::remove(host_.sysfs_root + "/bus/pci/devices/0000:00:06.0/driver");
  EXPECT_THAT(check_chip(chips_[2], settings_).reason, HasSubstr("no driver bound"));
  fs::remove_all(host_.sysfs_root + "/bus/pci/devices/0000:00:07.0");
  EXPECT_THAT(check_chip(chips_[3], settings_).reason, HasSubstr("gone from sysfs"));
}

TEST_F(ChipChecksTest, ExternalCommandSeesTheChip) {
  settings_.command = "test \"$TPU_CHIP_ID\" != vfio1 && test \"$TPU_CHIP_INDEX\" -ge 0";
  EXPECT_TRUE(check_chip(chips_[0], settings_).healthy);
  const auto check = check_chip(chips_[1], settings_);
  EXPECT_FALSE(check.healthy);
  EXPECT_EQ(check.reason, "health command failed: exit status 1");
}

TEST(CheckCommandTest, TimesOutAndKillsTheGroup) {
  const auto outcome = run_check_command("sleep 30", {}, std::chrono::milliseconds(200));
  EXPECT_FALSE(outcome.passed);
  EXPECT_THAT(outcome.description, HasSubstr("timed out"));
}

TEST(HealthMonitorTest, SimulatedChipsFollowTheCommandBothWays) {
  TempDir dir;
  const auto slice = parse_simulate_spec("v6e:4x4:4").value();
  DeviceState state({slice, simulated_chips(slice), std::vector<bool>(4, true), {}});
  metrics::MetricsRegistry registry;
  PluginMetrics plugin_metrics(registry);
  HealthCheckSettings settings;
  settings.check_hardware = false;
  settings.command = "test ! -e " + dir.path() + "/bad-$TPU_CHIP_ID";
  HealthMonitor monitor(state, settings, plugin_metrics);

  monitor.check_all();
  const auto before = state.version();
  std::ofstream(dir / "bad-vfio2") << "";
  monitor.check_all();
  EXPECT_FALSE(state.snapshot()->healthy[2]);
  EXPECT_GT(state.version(), before);
  EXPECT_EQ(plugin_metrics.chips_healthy.value(), 3);
  fs::remove(dir / "bad-vfio2");
  monitor.check_all();
  EXPECT_TRUE(state.snapshot()->healthy[2]);
  EXPECT_EQ(plugin_metrics.health_transitions.labels({"vfio2", "Unhealthy"}).value(), 1);
  EXPECT_EQ(plugin_metrics.health_transitions.labels({"vfio2", "Healthy"}).value(), 1);
}

}  // namespace
}  // namespace tpustack::deviceplugin
