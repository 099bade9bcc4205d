#include "common/topology/slice_spec.h"

#include <algorithm>

#include "common/topology/host_grid.h"

namespace tpustack::topology {

Result<SliceSpec> SliceSpec::make(Generation generation, const Topology& topology, int chips_per_host) {
  const auto& g = info(generation);
  if (auto offered = parse_topology(generation, topology.to_string()); !offered) return offered.error();
  const auto vm = topology::machine_type(generation, chips_per_host);  // validates the VM size
  if (!vm) return vm.error();
  const int chips = topology.chips();
  if (chips % chips_per_host != 0) {
    return Error{std::string(g.name) + " " + topology.to_string() + " has " + std::to_string(chips) + " chips, which " +
                 *vm + " (" + std::to_string(chips_per_host) + " chips) cannot hold exactly"};
  }
  if (chips / chips_per_host > 1 && chips_per_host != g.multi_host_chips_per_vm) {
    return Error{std::string(g.name) + " " + topology.to_string() + " spans several hosts, and multi-host " +
                 std::string(g.name) + " slices are built from " +
                 *topology::machine_type(generation, g.multi_host_chips_per_vm) + ", not " + *vm};
  }
  const auto per_host = block_bounds(chips_per_host);  // every VM size is a block size
  for (int axis = 0; axis < 3; ++axis) {
    if (topology.dims[axis] % per_host[axis] != 0) {
      return Error{std::string(g.name) + " " + topology.to_string() + " cannot be tiled by " + *vm + " hosts"};
    }
  }
  return SliceSpec(generation, topology, chips_per_host);
}

Result<SliceSpec> SliceSpec::make(std::string_view generation, std::string_view topology, int chips_per_host) {
  const auto g = parse_generation(generation);
  if (!g) return g.error();
  const auto shape = parse_topology(*g, topology);
  if (!shape) return shape.error();
  return make(*g, *shape, chips_per_host);
}

Result<SliceSpec> SliceSpec::with_default_host(Generation generation, const Topology& topology) {
  const auto& g = info(generation);
  const bool one_vm = std::find(g.chips_per_vm.begin(), g.chips_per_vm.end(), topology.chips()) != g.chips_per_vm.end();
  return make(generation, topology, one_vm ? topology.chips() : g.multi_host_chips_per_vm);
}

Result<SliceSpec> SliceSpec::with_default_host(std::string_view generation, std::string_view topology) {
  const auto g = parse_generation(generation);
  if (!g) return g.error();
  const auto shape = parse_topology(*g, topology);
  if (!shape) return shape.error();
  return with_default_host(*g, *shape);
}

Result<SliceSpec> SliceSpec::for_machine_type(const Topology& topology, std::string_view machine_type) {
  const auto m = parse_machine_type(machine_type);
  if (!m) return m.error();
  return make(m->generation, topology, m->chips_per_vm);
}

// make() has checked that the generation has this VM.
std::string SliceSpec::machine_type() const { return *topology::machine_type(generation_, chips_per_host_); }

std::string SliceSpec::accelerator_type() const {
  const auto& g = generation_info();
  return std::string(g.runtime_name) + "-" + std::to_string(chips() * g.tensorcores_per_chip);
}

std::array<int, 3> SliceSpec::host_bounds() const {
  const auto per_host = chips_per_host_bounds();
  return {topology_.dims[0] / per_host[0], topology_.dims[1] / per_host[1], topology_.dims[2] / per_host[2]};
}

std::array<int, 3> SliceSpec::chips_per_host_bounds() const { return block_bounds(chips_per_host_); }

std::array<bool, 3> SliceSpec::wrap() const {
  if (generation_info().topology_rank == 3) {
    const bool cube = ici_resiliency_default();
    return {cube, cube, cube};
  }
  return {topology_.dims[0] == 16, topology_.dims[1] == 16, false};
}

bool SliceSpec::ici_resiliency_default() const {
  return generation_info().topology_rank == 3 &&
         std::all_of(topology_.dims.begin(), topology_.dims.end(), [](int d) { return d >= 4; });
}

}  // namespace tpustack::topology
