#pragma once

#include <array>
#include <vector>

namespace tpustack::topology {

// Where a chip sits in its host's ICI grid.
struct ChipCoord {
  int x = 0;
  int y = 0;
  int z = 0;
  bool operator==(const ChipCoord&) const = default;
};

// True for the chip counts libtpu runs on within one host (and a TPU host has): 1, 2, 4 or 8.
bool valid_chips_per_host(int chips);

// The libtpu bounds of a block of `chips` chips on one host: 1 → 1,1,1; 2 → 1,2,1; 4 → 2,2,1;
// 8 → 2,4,1 (GKE's TPU_CHIPS_PER_HOST_BOUNDS). libtpu cannot run on 3, 5, 6 or 7 chips of one host: callers
// check counts that come from outside first, so any other count is a programming error (std::invalid_argument).
std::array<int, 3> block_bounds(int chips);

// Host-local chip numbering. Chips come in 2x2 tiles stacked along y; inside a tile the index runs
// along y first. This is the one numbering under which both published facts hold: a 2-chip process
// gets consecutive chips 0,1 with bounds 1,2,1 (GKE, Ray), and each NUMA half of an 8-chip host is a
// 2x2 block, chips 0-3 and 4-7 (Cloud TPU v5e docs). A chip outside the host is a programming error
// (std::invalid_argument), as for block_bounds.
ChipCoord chip_coordinates(int chips_per_host, int index);
int chip_index(int chips_per_host, ChipCoord coord);

// True when `chips` (any order) fill exactly one block of libtpu's shape for their count
// (block_bounds) at any place in the host's grid: the only chip sets a TPU process runs on, the
// whole host among them. False for chips out of range or listed twice.
bool is_chip_block(int chips_per_host, const std::vector<int>& chips);

}  // namespace tpustack::topology
