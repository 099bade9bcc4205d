#pragma once

#include <string>
#include <vector>

#include "common/result/result.h"
#include "common/topology/container_environment.h"
#include "common/topology/slice_spec.h"
#include "deviceplugin/discovery/chip.h"

namespace tpustack::deviceplugin {

// Everything an allocation decision looks at: the host's place in its slice, its chips and their
// health at one instant.
struct HostInventory {
  topology::SliceSpec slice;
  std::vector<Chip> chips;    // chips[i].index == i
  std::vector<bool> healthy;  // per chip index
  topology::EnvironmentOptions environment;
  // False for simulated chips on a machine without TPUs: a container runtime refuses to start a
  // container whose device nodes do not exist, so such containers get the environment only.
  bool hand_out_device_nodes = true;
};

// Host-local indices of `ids`, in the order given, or the Error naming an unknown or repeated ID.
Result<std::vector<int>> chip_indices(const HostInventory& inventory, const std::vector<std::string>& ids);

// An Error (kFailedPrecondition) naming the first of these chips that is Unhealthy.
Result<void> require_healthy(const HostInventory& inventory, const std::vector<int>& indices);

}  // namespace tpustack::deviceplugin
