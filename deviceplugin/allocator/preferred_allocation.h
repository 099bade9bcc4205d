#pragma once

#include <string>
#include <vector>

#include "deviceplugin/allocator/host_inventory.h"

namespace tpustack::deviceplugin {

// One container's GetPreferredAllocation question: `size` chips out of `available` that contain
// `must_include`.
struct PreferredRequest {
  std::vector<std::string> available;
  std::vector<std::string> must_include;
  int size = 0;
};

// Answers GetPreferredAllocation for one container with device IDs in chip order: the best block
// from common/topology's preferred_chips (ICI-contiguous, one NUMA node when it can be), made of
// Healthy chips, so never a set allocate_container refuses.
//
// Where no such set exists (a size of 3, 5, 6 or 7; no free block) it answers an Error, and the RPC
// fails. The kubelet's device manager (pkg/kubelet/cm/devicemanager/manager.go,
// resourcesToAllocate) fails the pod's admission on a GetPreferredAllocation error, with our message;
// on an empty or short answer it would instead fill up from the available devices in no particular
// order and call Allocate with them, which refuses them too, later and with less to say.
// Also an Error for unknown IDs, or a must-include ID that is not available or is Unhealthy.
Result<std::vector<std::string>> preferred_allocation(const HostInventory& inventory, const PreferredRequest& request);

// The whole request, container by container: a chip chosen for one container is not offered to a
// later one, since allocate_request refuses a chip twice in one request.
Result<std::vector<std::vector<std::string>>> preferred_allocations(const HostInventory& inventory,
                                                                    const std::vector<PreferredRequest>& containers);

}  // namespace tpustack::deviceplugin
