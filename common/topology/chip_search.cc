#include "common/topology/chip_search.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>

#include "common/topology/host_grid.h"
#include "common/topology/topology_error.h"

namespace tpustack::topology {
namespace {

struct Pool {
  std::set<int> chips;  // available ∪ must_include
  std::set<int> must;
};

Pool validate(const ChipSearchRequest& r) {
  (void)block_bounds(r.chips_per_host);
  Pool pool;
  const auto check = [&](int chip) {
    if (chip < 0 || chip >= r.chips_per_host) {
      throw TopologyError("chip " + std::to_string(chip) + " does not exist on a " + std::to_string(r.chips_per_host) +
                          "-chip host");
    }
  };
  for (int c : r.available) {
    check(c);
    pool.chips.insert(c);
  }
  // The kubelet's must-include devices are already the container's, so they count as available.
  for (int c : r.must_include) {
    check(c);
    pool.chips.insert(c);
    pool.must.insert(c);
  }
  if (r.count < 1 || r.count > r.chips_per_host) {
    throw TopologyError("cannot choose " + std::to_string(r.count) + " chips on a " + std::to_string(r.chips_per_host) +
                        "-chip host");
  }
  if (static_cast<int>(pool.must.size()) > r.count) {
    throw TopologyError(std::to_string(pool.must.size()) + " chips must be included but only " +
                        std::to_string(r.count) + " are requested");
  }
  return pool;
}

int numa_of(const ChipSearchRequest& r, int chip) {
  return chip < static_cast<int>(r.numa_of_chip.size()) ? r.numa_of_chip[chip] : -1;
}

int numa_span(const ChipSearchRequest& r, const std::vector<int>& chips) {
  std::set<int> nodes;
  for (int c : chips) nodes.insert(numa_of(r, c));
  return static_cast<int>(nodes.size());
}

bool connected(int chips_per_host, const std::vector<int>& chips) {
  if (chips.empty()) return true;
  std::set<int> reached{chips.front()};
  std::vector<int> frontier{chips.front()};
  while (!frontier.empty()) {
    const int c = frontier.back();
    frontier.pop_back();
    for (int other : chips) {
      if (!reached.contains(other) && ici_neighbours(chips_per_host, c, other)) {
        reached.insert(other);
        frontier.push_back(other);
      }
    }
  }
  return reached.size() == chips.size();
}

std::optional<std::vector<int>> best_block(const ChipSearchRequest& r, const Pool& pool) {
  if (r.count != 1 && r.count != 2 && r.count != 4 && r.count != 8) return std::nullopt;
  const auto shape = block_bounds(r.count);
  const auto host = block_bounds(r.chips_per_host);
  std::optional<std::vector<int>> best;
  std::tuple<int, int, int> best_score{};
  for (int ox = 0; ox + shape[0] <= host[0]; ++ox) {
    for (int oy = 0; oy + shape[1] <= host[1]; ++oy) {
      std::vector<int> block;
      bool usable = true;
      for (int dx = 0; dx < shape[0] && usable; ++dx) {
        for (int dy = 0; dy < shape[1] && usable; ++dy) {
          const int chip = chip_index(r.chips_per_host, {ox + dx, oy + dy, 0});
          usable = pool.chips.contains(chip);
          block.push_back(chip);
        }
      }
      if (!usable) continue;
      std::sort(block.begin(), block.end());
      if (!std::includes(block.begin(), block.end(), pool.must.begin(), pool.must.end())) continue;
      const bool aligned = ox % shape[0] == 0 && oy % shape[1] == 0;
      const std::tuple<int, int, int> score{numa_span(r, block), aligned ? 0 : 1, block.front()};
      if (!best || score < best_score) {
        best = block;
        best_score = score;
      }
    }
  }
  return best;
}

// Adds chips one at a time: an ICI neighbour of the set on a NUMA node the set already uses, then any
// neighbour, then anything, lowest index first within each tier.
std::vector<int> grow(const ChipSearchRequest& r, const Pool& pool, std::vector<int> chosen) {
  while (static_cast<int>(chosen.size()) < r.count) {
    std::set<int> used_numa;
    for (int c : chosen) used_numa.insert(numa_of(r, c));
    int pick = -1;
    int pick_tier = 3;
    for (int c : pool.chips) {
      if (std::find(chosen.begin(), chosen.end(), c) != chosen.end()) continue;
      const bool adjacent = chosen.empty() || std::any_of(chosen.begin(), chosen.end(), [&](int s) {
                              return ici_neighbours(r.chips_per_host, s, c);
                            });
      const bool same_numa = chosen.empty() || used_numa.contains(numa_of(r, c));
      const int tier = adjacent ? (same_numa ? 0 : 1) : 2;
      if (tier < pick_tier) {
        pick = c;
        pick_tier = tier;
      }
    }
    chosen.push_back(pick);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace

std::optional<std::vector<int>> find_contiguous_block(const ChipSearchRequest& request) {
  return best_block(request, validate(request));
}

std::vector<int> preferred_chips(const ChipSearchRequest& request) {
  const Pool pool = validate(request);
  if (static_cast<int>(pool.chips.size()) < request.count) {
    throw TopologyError("requested " + std::to_string(request.count) + " chips but only " +
                        std::to_string(pool.chips.size()) + " are available");
  }
  if (auto block = best_block(request, pool)) return *block;
  if (!pool.must.empty()) return grow(request, pool, {pool.must.begin(), pool.must.end()});
  std::optional<std::vector<int>> best;
  std::tuple<int, int, std::vector<int>> best_score;
  for (int seed : pool.chips) {
    auto candidate = grow(request, pool, {seed});
    std::tuple<int, int, std::vector<int>> score{connected(request.chips_per_host, candidate) ? 0 : 1,
                                                 numa_span(request, candidate), candidate};
    if (!best || score < best_score) {
      best = candidate;
      best_score = std::move(score);
    }
  }
  return *best;
}

}  // namespace tpustack::topology
