#include "deviceplugin/health/chip_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/topology/generation.h"
#include "deviceplugin/health/check_command.h"

namespace tpustack::deviceplugin {
namespace {

namespace fs = std::filesystem;

// Host paths are written as /dev/...; the checks look under --dev-root instead.
std::string under_dev_root(const std::string& path, const std::string& dev_root) {
  return dev_root + path.substr(std::string("/dev").size());
}

// Not open(): a VFIO group admits one opener, so probing it could make a starting container fail
// with EBUSY. Existence plus access() says the same without taking the device.
std::optional<std::string> device_node_problem(const std::string& host_path, const std::string& dev_root) {
  const std::string path = under_dev_root(host_path, dev_root);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return host_path + " is missing";
  if (S_ISDIR(st.st_mode)) return host_path + " is a directory, not a device node";
  if (::access(path.c_str(), R_OK | W_OK) != 0) return host_path + " cannot be opened: " + std::strerror(errno);
  return std::nullopt;
}

std::optional<std::string> pci_function_problem(const std::string& address, const std::string& sysfs_root) {
  const fs::path dir = fs::path(sysfs_root) / "bus/pci/devices" / address;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return "PCI device " + address + " is gone from sysfs";
  std::ifstream vendor_file(dir / "vendor");
  std::string vendor;
  std::getline(vendor_file, vendor);
  // A device that fell off the bus reads all ones.
  if (vendor != "0x1ae0") return "PCI device " + address + " reads vendor '" + vendor + "'";
  if (!fs::exists(dir / "driver", ec)) return "PCI device " + address + " has no driver bound";
  return std::nullopt;
}

}  // namespace

ChipCheck check_chip(const Chip& chip, const HealthCheckSettings& settings) {
  if (settings.check_hardware) {
    for (const auto& path : chip.device_paths) {
      if (auto problem = device_node_problem(path, settings.dev_root)) return {false, *problem};
    }
    for (const auto& address : chip.pci_functions) {
      if (auto problem = pci_function_problem(address, settings.sysfs_root)) return {false, *problem};
    }
  }
  if (!settings.command.empty()) {
    std::string devices;
    for (const auto& path : chip.device_paths) devices += (devices.empty() ? "" : ",") + path;
    const auto outcome = run_check_command(settings.command,
                                           {{"TPU_CHIP_ID", chip.id},
                                            {"TPU_CHIP_INDEX", std::to_string(chip.index)},
                                            {"TPU_CHIP_PCI_ADDRESS", chip.pci_address},
                                            {"TPU_CHIP_DEVICES", devices}},
                                           settings.command_timeout);
    if (!outcome.passed) return {false, "health command failed: " + outcome.description};
  }
  return {};
}

}  // namespace tpustack::deviceplugin
