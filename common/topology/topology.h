#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/result/result.h"
#include "common/topology/generation.h"

namespace tpustack::topology {

// A slice's chip grid as GKE writes it in cloud.google.com/gke-tpu-topology: "4x4" or "2x2x4".
struct Topology {
  int rank = 2;                      // 2 or 3
  std::array<int, 3> dims{1, 1, 1};  // unused trailing dims are 1

  int chips() const { return dims[0] * dims[1] * dims[2]; }
  std::string to_string() const;  // "4x4", "2x2x1"
  bool operator==(const Topology&) const = default;
};

// Reads "AxB" / "AxBxC" without checking what any generation offers.
Result<Topology> parse_topology_syntax(std::string_view text);

// Reads a topology and checks it is a slice shape the generation offers (§C.3): v5e/v6e 1x1 .. 16x16;
// v4/v5p/tpu7x 2x2x1, 2x2x2, 2x2x4, 2x4x4 and multiples of 4 up to the generation's cube limit.
// An Error names the accepted shapes.
Result<Topology> parse_topology(Generation generation, std::string_view text);

}  // namespace tpustack::topology
