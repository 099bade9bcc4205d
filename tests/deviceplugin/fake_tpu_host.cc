#include "tests/deviceplugin/fake_tpu_host.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace tpustack::deviceplugin::testing {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text << "\n";
}

std::string hex4(unsigned value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", value);
  return text;
}

}  // namespace

FakeTpuHost write_fake_tpu_host(const std::string& root, topology::Generation generation, int chips) {
  const auto& g = topology::info(generation);
  const fs::path sys = fs::path(root) / "sys";
  const fs::path dev = fs::path(root) / "dev";
  const fs::path devices = sys / "bus/pci/devices";
  const bool vfio = g.device_nodes == topology::DeviceNodeStyle::kVfio;
  const fs::path driver = sys / "bus/pci/drivers" / (vfio ? "vfio-pci" : "accel");
  fs::create_directories(driver);
  fs::create_directories(dev / "vfio");
  if (vfio) write(dev / "vfio/vfio", "");
  for (int chip = 0; chip < chips; ++chip) {
    for (int f = 0; f < g.pci_functions_per_chip; ++f) {
      char address[32];
      std::snprintf(address, sizeof address, "0000:00:%02x.%d", 4 + chip, f);
      const fs::path fn = devices / address;
      write(fn / "vendor", "0x1ae0");
      write(fn / "device", hex4(g.pci_device_id));
      write(fn / "numa_node", std::to_string(chips == 8 ? chip / 4 : 0));
      fs::create_directory_symlink(driver, fn / "driver");
      if (vfio) {
        const int group = chip * g.pci_functions_per_chip + f;
        fs::create_directory_symlink(sys / "kernel/iommu_groups" / std::to_string(group), fn / "iommu_group");
        write(dev / "vfio" / std::to_string(group), "");
      } else {
        fs::create_directories(fn / "accel" / ("accel" + std::to_string(chip)));
        write(dev / ("accel" + std::to_string(chip)), "");
      }
    }
  }
  write(devices / "0000:00:1f.0/vendor", "0x8086");
  write(devices / "0000:00:1f.0/device", "0x7000");
  return {sys.string(), dev.string()};
}

}  // namespace tpustack::deviceplugin::testing
