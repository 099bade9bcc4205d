#include "common/topology/chip_search.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>

#include "common/topology/host_grid.h"

namespace tpustack::topology {
namespace {

struct Pool {
  std::set<int> chips;  // available ∪ must_include
  std::set<int> must;
};

Result<Pool> validate(const ChipSearchRequest& r) {
  if (!valid_chips_per_host(r.chips_per_host)) {
    return Error{"a TPU host has 1, 2, 4 or 8 chips, not " + std::to_string(r.chips_per_host)};
  }
  Pool pool;
  const auto exists = [&](int chip) { return chip >= 0 && chip < r.chips_per_host; };
  const auto missing = [&](int chip) {
    return Error{"chip " + std::to_string(chip) + " does not exist on a " + std::to_string(r.chips_per_host) +
                 "-chip host"};
  };
  for (int c : r.available) {
    if (!exists(c)) return missing(c);
    pool.chips.insert(c);
  }
  // The kubelet's must-include devices are already the container's, so they count as available.
  for (int c : r.must_include) {
    if (!exists(c)) return missing(c);
    pool.chips.insert(c);
    pool.must.insert(c);
  }
  if (r.count < 1 || r.count > r.chips_per_host) {
    return Error{"cannot choose " + std::to_string(r.count) + " chips on a " + std::to_string(r.chips_per_host) +
                 "-chip host"};
  }
  if (static_cast<int>(pool.must.size()) > r.count) {
    return Error{std::to_string(pool.must.size()) + " chips must be included but only " + std::to_string(r.count) +
                 " are requested"};
  }
  return pool;
}

std::string join_commas(const std::set<int>& chips) {
  std::string out;
  for (int c : chips) out += (out.empty() ? "" : ",") + std::to_string(c);
  return out;
}

int numa_of(const ChipSearchRequest& r, int chip) {
  return chip < static_cast<int>(r.numa_of_chip.size()) ? r.numa_of_chip[chip] : -1;
}

int numa_span(const ChipSearchRequest& r, const std::vector<int>& chips) {
  std::set<int> nodes;
  for (int c : chips) nodes.insert(numa_of(r, c));
  return static_cast<int>(nodes.size());
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

}  // namespace

Result<std::optional<std::vector<int>>> find_contiguous_block(const ChipSearchRequest& request) {
  const auto pool = validate(request);
  if (!pool) return pool.error();
  return best_block(request, *pool);
}

Result<std::vector<int>> preferred_chips(const ChipSearchRequest& request) {
  const auto valid = validate(request);
  if (!valid) return valid.error();
  const Pool& pool = *valid;
  const int count = request.count;
  if (count != request.chips_per_host && count != 1 && count != 2 && count != 4) {
    return Error{"a container gets 1, 2, 4 or all " + std::to_string(request.chips_per_host) +
                 " chips of a host, not " + std::to_string(count)};
  }
  if (static_cast<int>(pool.chips.size()) < count) {
    return Error{"requested " + std::to_string(count) + " chips but only " + std::to_string(pool.chips.size()) +
                 " are available"};
  }
  if (auto block = best_block(request, pool)) return *block;
  const auto shape = block_bounds(count);
  std::string message = "no " + std::to_string(shape[0]) + "x" + std::to_string(shape[1]) +
                        " block of ICI neighbours is free among chips " + join_commas(pool.chips);
  if (!pool.must.empty()) message += " that holds chips " + join_commas(pool.must);
  return Error{message};
}

}  // namespace tpustack::topology
