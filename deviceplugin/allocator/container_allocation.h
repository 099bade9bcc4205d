#pragma once

#include <map>
#include <string>
#include <vector>

#include "deviceplugin/allocator/host_inventory.h"

namespace tpustack::deviceplugin {

struct DeviceNode {
  std::string host_path;
  std::string container_path;
  std::string permissions;  // "mrw"
};

struct VolumeMount {
  std::string host_path;
  std::string container_path;
  bool read_only = false;
};

// What one container gets for its chips (a ContainerAllocateResponse in plain data).
struct ContainerAllocation {
  std::vector<DeviceNode> devices;
  std::vector<VolumeMount> mounts;
  std::map<std::string, std::string> envs;
};

// libtpu writes its logs here; GKE's plugin mounts the same host directory.
inline constexpr const char* kTpuLogsDir = "/tmp/tpu_logs";

// Answers Allocate for one container: every ID must be known, listed once and healthy, and the set
// must be one libtpu can run on (all chips of the host, or an ICI block of 1, 2 or 4). The result
// depends only on the IDs, so a repeated Allocate gets the same answer. Throws AllocationError.
ContainerAllocation allocate_container(const HostInventory& inventory, const std::vector<std::string>& ids);

}  // namespace tpustack::deviceplugin
