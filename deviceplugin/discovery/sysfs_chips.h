#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result/result.h"
#include "common/topology/generation.h"
#include "deviceplugin/discovery/chip.h"

namespace tpustack::deviceplugin {

// What a walk of <sysfs-root>/bus/pci/devices found.
struct SysfsScan {
  std::optional<topology::Generation> generation;  // empty when no TPU function was found
  std::vector<Chip> chips;                         // indexed by NUMA node, then PCI slot
  std::vector<std::string> problems;               // functions that could not be turned into chips
};

// Finds the TPU chips of this host: PCI functions of vendor 0x1ae0 whose device ID names a
// generation, grouped by slot (DDDD:BB:DD) into chips. Device nodes are /dev/accelN (from the
// function's accel/ class directory) for v4 and /dev/vfio/<iommu group> plus /dev/vfio/vfio for
// VFIO generations; chip IDs are "accelN" / "vfio<first group>", stable across restarts because the
// kubelet checkpoints allocations by ID. An Error when two generations are present.
Result<SysfsScan> scan_sysfs_chips(const std::string& sysfs_root);

}  // namespace tpustack::deviceplugin
