#include "common/topology/host_grid.h"

#include <cstdlib>
#include <string>

#include "common/topology/topology_error.h"

namespace tpustack::topology {
namespace {

void check_index(int chips_per_host, int index) {
  (void)block_bounds(chips_per_host);
  if (index < 0 || index >= chips_per_host) {
    throw TopologyError("chip " + std::to_string(index) + " does not exist on a host with " +
                        std::to_string(chips_per_host) + " chips");
  }
}

}  // namespace

std::array<int, 3> block_bounds(int chips) {
  switch (chips) {
    case 1:
      return {1, 1, 1};
    case 2:
      return {1, 2, 1};
    case 4:
      return {2, 2, 1};
    case 8:
      return {2, 4, 1};
    default:
      throw TopologyError("a TPU process runs on 1, 2, 4 or 8 chips of one host, not " + std::to_string(chips));
  }
}

ChipCoord chip_coordinates(int chips_per_host, int index) {
  check_index(chips_per_host, index);
  const int tile = index / 4;
  const int in_tile = index % 4;
  return ChipCoord{in_tile / 2, in_tile % 2 + 2 * tile, 0};
}

int chip_index(int chips_per_host, ChipCoord coord) {
  const auto bounds = block_bounds(chips_per_host);
  if (coord.x < 0 || coord.y < 0 || coord.z != 0 || coord.x >= bounds[0] || coord.y >= bounds[1]) {
    throw TopologyError("chip coordinate (" + std::to_string(coord.x) + "," + std::to_string(coord.y) + "," +
                        std::to_string(coord.z) + ") is outside a " + std::to_string(chips_per_host) + "-chip host");
  }
  return (coord.y / 2) * 4 + coord.x * 2 + coord.y % 2;
}

bool ici_neighbours(int chips_per_host, int a, int b) {
  const ChipCoord ca = chip_coordinates(chips_per_host, a);
  const ChipCoord cb = chip_coordinates(chips_per_host, b);
  return std::abs(ca.x - cb.x) + std::abs(ca.y - cb.y) + std::abs(ca.z - cb.z) == 1;
}

}  // namespace tpustack::topology
