#pragma once

#include <chrono>
#include <string>

#include "deviceplugin/discovery/chip.h"

namespace tpustack::deviceplugin {

struct HealthCheckSettings {
  std::string sysfs_root = "/sys";
  std::string dev_root = "/dev";
  // False for simulated chips, which have no device nodes or PCI functions to look at.
  bool check_hardware = true;
  // Optional: run with TPU_CHIP_ID, TPU_CHIP_INDEX, TPU_CHIP_PCI_ADDRESS, TPU_CHIP_DEVICES; exit 0 = healthy.
  std::string command;
  std::chrono::milliseconds command_timeout{5000};
};

struct ChipCheck {
  bool healthy = true;
  std::string reason;  // why not, e.g. "/dev/vfio/3 is missing"
};

// One health check of one chip: every device node exists, is not a directory and is readable and
// writable; every PCI function is still in sysfs, still reads vendor 0x1ae0 and is bound to a
// driver; and the external command, if any, passes.
ChipCheck check_chip(const Chip& chip, const HealthCheckSettings& settings);

}  // namespace tpustack::deviceplugin
