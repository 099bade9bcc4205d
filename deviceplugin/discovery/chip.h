#pragma once

#include <string>
#include <vector>

namespace tpustack::deviceplugin {

// A chip as the plugin advertises it: what the kubelet sees (id, NUMA) and what a container gets
// (device nodes).
struct Chip {
  int index = 0;            // host-local chip number (common/topology/host_grid.h)
  std::string id;           // device ID sent to the kubelet
  std::string pci_address;  // DDDD:BB:DD, the chip's PCI slot
  int numa_node = -1;
  std::vector<std::string> device_paths;   // host device nodes, e.g. /dev/vfio/3
  std::vector<std::string> pci_functions;  // DDDD:BB:DD.F under /sys/bus/pci/devices
};

}  // namespace tpustack::deviceplugin
