#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/topology/slice_spec.h"
#include "deviceplugin/discovery/chip.h"

namespace tpustack::deviceplugin {

// Reads --simulate "GEN:TOPOLOGY[:CHIPS_PER_HOST]" ("v6e:4x4:4", "tpu-v5-lite-podslice:2x4").
// CHIPS_PER_HOST defaults to the generation's usual VM for that topology.
Result<topology::SliceSpec> parse_simulate_spec(std::string_view text);

// The chips of one simulated host of `slice`, with the PCI slots, IOMMU groups and device nodes a
// real VM of that machine type shows. 8-chip VMs have two NUMA nodes (chips 0-3 and 4-7), as
// ct5lp-hightpu-8t does; smaller VMs have one.
std::vector<Chip> simulated_chips(const topology::SliceSpec& slice);

}  // namespace tpustack::deviceplugin
