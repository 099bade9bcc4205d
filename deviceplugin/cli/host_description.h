#pragma once

#include <string>
#include <vector>

#include "common/topology/slice_spec.h"
#include "deviceplugin/discovery/simulated_host.h"

namespace tpustack::deviceplugin {

// What `tpu-device-plugin --describe` prints: the host's place in its slice, its chips, and the
// environment a container gets for the whole host and for each sub-host size.
std::string describe_host(const topology::SliceSpec& slice, const std::vector<Chip>& chips);

}  // namespace tpustack::deviceplugin
