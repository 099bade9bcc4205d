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
// must be one libtpu can run on: the whole host, or a 1x1, 1x2 or 2x2 block of its ICI grid
// (topology::is_chip_block); the refusal names the IDs and the shape they miss. Device nodes are left
// out when the inventory says not to hand them out. The result depends only on the IDs, so a
// repeated Allocate gets the same answer.
Result<ContainerAllocation> allocate_container(const HostInventory& inventory, const std::vector<std::string>& ids);

// Answers a whole AllocateRequest, one ContainerAllocation per container in order: each container's
// IDs as allocate_container checks them, and no ID in two containers; or the Error of the first problem found.
Result<std::vector<ContainerAllocation>> allocate_request(const HostInventory& inventory,
                                                          const std::vector<std::vector<std::string>>& containers);

}  // namespace tpustack::deviceplugin
