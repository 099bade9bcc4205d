#pragma once

#include <stdexcept>
#include <string>
#include <vector>

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

// A request the plugin refuses. The message names the offending device ID.
class AllocationError : public std::invalid_argument {
 public:
  enum class Reason { kInvalidRequest, kUnhealthy };
  AllocationError(Reason reason, const std::string& message) : std::invalid_argument(message), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};

// Host-local indices of `ids`, in the order given. Throws AllocationError for an unknown or
// repeated ID.
std::vector<int> chip_indices(const HostInventory& inventory, const std::vector<std::string>& ids);

// Throws AllocationError (kUnhealthy) naming the first of these chips that is Unhealthy.
void require_healthy(const HostInventory& inventory, const std::vector<int>& indices);

}  // namespace tpustack::deviceplugin
