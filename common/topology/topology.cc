#include "common/topology/topology.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace tpustack::topology {
namespace {

constexpr std::array<std::string_view, 8> k2DShapes{"1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16"};
constexpr std::array<std::string_view, 4> kSmall3DShapes{"2x2x1", "2x2x2", "2x2x4", "2x4x4"};

template <size_t N>
std::string join(const std::array<std::string_view, N>& items) {
  std::string out;
  for (auto s : items) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

}  // namespace

std::string Topology::to_string() const {
  std::string out = std::to_string(dims[0]) + "x" + std::to_string(dims[1]);
  if (rank == 3) out += "x" + std::to_string(dims[2]);
  return out;
}

Result<Topology> parse_topology_syntax(std::string_view text) {
  Topology t;
  int count = 0;
  std::string_view rest = text;
  while (true) {
    const size_t x = rest.find('x');
    const std::string_view part = rest.substr(0, x);
    int value = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || value < 1 || count == 3) {
      return Error{"'" + std::string(text) +
                   "' is not a TPU topology: expected AxB or AxBxC with positive integers, e.g. 4x4 or 2x2x4"};
    }
    t.dims[count++] = value;
    if (x == std::string_view::npos) break;
    rest.remove_prefix(x + 1);
  }
  if (count < 2) {
    return Error{"'" + std::string(text) + "' is not a TPU topology: expected AxB or AxBxC, e.g. 4x4 or 2x2x4"};
  }
  t.rank = count;
  return t;
}

Result<Topology> parse_topology(Generation generation, std::string_view text) {
  const auto& g = info(generation);
  const auto syntax = parse_topology_syntax(text);
  if (!syntax) return syntax;
  const Topology& t = *syntax;
  const std::string name(g.name);
  if (t.rank != g.topology_rank) {
    return Error{"topology '" + std::string(text) + "' has " + std::to_string(t.rank) + " dimensions but " + name +
                 " slices are " + std::to_string(g.topology_rank) + "D, e.g. " +
                 (g.topology_rank == 2 ? "4x4" : "2x2x4")};
  }
  if (g.topology_rank == 2) {
    if (std::find(k2DShapes.begin(), k2DShapes.end(), t.to_string()) == k2DShapes.end()) {
      return Error{"topology '" + std::string(text) + "' is not a " + name + " slice shape; " + name + " offers " +
                   join(k2DShapes)};
    }
    return t;
  }
  if (std::find(kSmall3DShapes.begin(), kSmall3DShapes.end(), t.to_string()) != kSmall3DShapes.end()) return t;
  const std::string rule =
      name + " offers " + join(kSmall3DShapes) + " and AxBxC with every dimension a multiple of 4 from 4 to 256" +
      (g.ordered_dims ? " in non-decreasing order" : "") + ", at most " + std::to_string(g.max_cubes) + " 4x4x4 cubes";
  int cubes = 1;
  for (int d : t.dims) {
    if (d % 4 != 0 || d > 256) return Error{"topology '" + std::string(text) + "' is not valid: " + rule};
    cubes *= d / 4;
  }
  if (g.ordered_dims && !(t.dims[0] <= t.dims[1] && t.dims[1] <= t.dims[2])) {
    return Error{"topology '" + std::string(text) + "' is not valid: " + rule};
  }
  if (cubes > g.max_cubes) {
    return Error{"topology '" + std::string(text) + "' needs " + std::to_string(cubes) + " cubes, more than a " + name +
                 " pod has: " + rule};
  }
  return t;
}

}  // namespace tpustack::topology
