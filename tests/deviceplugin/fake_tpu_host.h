#pragma once

#include <string>

#include "common/topology/generation.h"

namespace tpustack::deviceplugin::testing {

// A TPU VM's sysfs and /dev as discovery and the health checks see them, written under `root`:
// <root>/sys/bus/pci/devices/0000:00:0N.F with vendor, device, numa_node, driver and iommu_group
// (VFIO) or accel/accelN (v4), plus <root>/dev/vfio/<group> and /dev/vfio/vfio or /dev/accelN as
// plain files. One unrelated PCI device is added to be skipped. 8-chip hosts get two NUMA nodes.
struct FakeTpuHost {
  std::string sysfs_root;
  std::string dev_root;
};
FakeTpuHost write_fake_tpu_host(const std::string& root, topology::Generation generation, int chips);

}  // namespace tpustack::deviceplugin::testing
