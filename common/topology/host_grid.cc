#include "common/topology/host_grid.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace tpustack::topology {
namespace {

void check_index(int chips_per_host, int index) {
  (void)block_bounds(chips_per_host);
  if (index < 0 || index >= chips_per_host) {
    throw std::invalid_argument("chip " + std::to_string(index) + " does not exist on a host with " +
                                std::to_string(chips_per_host) + " chips");
  }
}

}  // namespace

bool valid_chips_per_host(int chips) { return chips == 1 || chips == 2 || chips == 4 || chips == 8; }

std::array<int, 3> block_bounds(int chips) {
  if (!valid_chips_per_host(chips)) {
    throw std::invalid_argument("a TPU process runs on 1, 2, 4 or 8 chips of one host, not " + std::to_string(chips));
  }
  switch (chips) {
    case 1:
      return {1, 1, 1};
    case 2:
      return {1, 2, 1};
    case 4:
      return {2, 2, 1};
    default:
      return {2, 4, 1};
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
    throw std::invalid_argument("chip coordinate (" + std::to_string(coord.x) + "," + std::to_string(coord.y) + "," +
                                std::to_string(coord.z) + ") is outside a " + std::to_string(chips_per_host) +
                                "-chip host");
  }
  return (coord.y / 2) * 4 + coord.x * 2 + coord.y % 2;
}

bool is_chip_block(int chips_per_host, const std::vector<int>& chips) {
  const int count = static_cast<int>(chips.size());
  if (count > chips_per_host || (count != 1 && count != 2 && count != 4 && count != 8)) return false;
  std::set<int> distinct;
  std::vector<ChipCoord> coords;
  for (int chip : chips) {
    if (chip < 0 || chip >= chips_per_host || !distinct.insert(chip).second) return false;
    coords.push_back(chip_coordinates(chips_per_host, chip));
  }
  // `count` distinct chips inside a box of `count` places fill it.
  const auto shape = block_bounds(count);
  const int min_x = std::min_element(coords.begin(), coords.end(), [](auto a, auto b) { return a.x < b.x; })->x;
  const int min_y = std::min_element(coords.begin(), coords.end(), [](auto a, auto b) { return a.y < b.y; })->y;
  return std::all_of(coords.begin(), coords.end(),
                     [&](const ChipCoord& c) { return c.x - min_x < shape[0] && c.y - min_y < shape[1]; });
}

}  // namespace tpustack::topology
