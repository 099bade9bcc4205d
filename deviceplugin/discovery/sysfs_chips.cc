#include "deviceplugin/discovery/sysfs_chips.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

namespace tpustack::deviceplugin {
namespace {

namespace fs = std::filesystem;
using topology::DeviceNodeStyle;
using topology::Generation;

std::string read_first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::optional<long> read_number(const fs::path& path, int base) {
  std::string text = read_first_line(path);
  if (base == 16 && text.starts_with("0x")) text = text.substr(2);
  long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

struct Function {
  std::string address;  // DDDD:BB:DD.F
  int numa_node = -1;
  std::string iommu_group;  // empty when the function has none
  std::string accel_name;   // "accel0" for v4, empty otherwise
};

std::string accel_name_of(const fs::path& function_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(function_dir / "accel", ec)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("accel")) return name;
  }
  return {};
}

}  // namespace

Result<SysfsScan> scan_sysfs_chips(const std::string& sysfs_root) {
  SysfsScan scan;
  const fs::path devices = fs::path(sysfs_root) / "bus/pci/devices";
  std::map<std::string, std::vector<Function>> by_slot;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(devices, ec)) {
    const auto vendor = read_number(entry.path() / "vendor", 16);
    if (vendor != topology::kGooglePciVendor) continue;
    const auto device = read_number(entry.path() / "device", 16);
    Generation generation;
    if (!device || !topology::generation_for_pci_device(static_cast<std::uint16_t>(*device), generation)) continue;
    if (scan.generation && *scan.generation != generation) {
      return Error{"sysfs " + devices.string() + " holds TPUs of two generations (" +
                   std::string(topology::info(*scan.generation).name) + " and " +
                   std::string(topology::info(generation).name) + "); one node serves one generation"};
    }
    scan.generation = generation;
    Function function;
    function.address = entry.path().filename().string();
    function.numa_node = static_cast<int>(read_number(entry.path() / "numa_node", 10).value_or(-1));
    const fs::path group_link = fs::read_symlink(entry.path() / "iommu_group", ec);
    if (!ec) function.iommu_group = group_link.filename().string();
    function.accel_name = accel_name_of(entry.path());
    const auto dot = function.address.rfind('.');
    by_slot[function.address.substr(0, dot)].push_back(std::move(function));
  }
  if (!scan.generation) return scan;

  const auto style = topology::info(*scan.generation).device_nodes;
  for (auto& [slot, functions] : by_slot) {
    std::sort(functions.begin(), functions.end(),
              [](const Function& a, const Function& b) { return a.address < b.address; });
    Chip chip;
    chip.pci_address = slot;
    chip.numa_node = functions.front().numa_node;
    for (const auto& f : functions) {
      chip.pci_functions.push_back(f.address);
      if (style == DeviceNodeStyle::kAccel && !f.accel_name.empty()) {
        chip.device_paths.push_back("/dev/" + f.accel_name);
      } else if (style == DeviceNodeStyle::kVfio && !f.iommu_group.empty()) {
        chip.device_paths.push_back("/dev/vfio/" + f.iommu_group);
      }
    }
    if (chip.device_paths.empty()) {
      scan.problems.push_back("TPU at " + slot + " has no " +
                              (style == DeviceNodeStyle::kAccel ? "accel/ class directory" : "iommu_group link") +
                              " in sysfs, so no device node to hand out");
      continue;
    }
    chip.id = chip.device_paths.front().substr(chip.device_paths.front().rfind('/') + 1);
    if (style == DeviceNodeStyle::kVfio) {
      chip.id = "vfio" + chip.id;
      chip.device_paths.push_back("/dev/vfio/vfio");
    }
    scan.chips.push_back(std::move(chip));
  }
  std::sort(scan.chips.begin(), scan.chips.end(), [](const Chip& a, const Chip& b) {
    return std::tie(a.numa_node, a.pci_address) < std::tie(b.numa_node, b.pci_address);
  });
  for (size_t i = 0; i < scan.chips.size(); ++i) scan.chips[i].index = static_cast<int>(i);
  return scan;
}

}  // namespace tpustack::deviceplugin
