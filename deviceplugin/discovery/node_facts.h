#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/config/setting_resolver.h"
#include "common/topology/generation.h"
#include "common/topology/slice_spec.h"

namespace tpustack::deviceplugin {

// One declared fact and where it was declared ("--topology", "plugin.yaml node.topology", "environment
// TPUSTACK_TOPOLOGY", "node label cloud.google.com/gke-tpu-topology"), so errors can say which source to fix.
using config::Declared;

// What the node is supposed to be. Every field is optional in every source.
struct NodeFacts {
  std::optional<Declared<std::string>> accelerator;  // "v6e" or a label value such as "tpu-v6e-slice"
  std::optional<Declared<std::string>> topology;     // the whole slice: "4x4"
  std::optional<Declared<int>> chips_per_host;
  std::optional<Declared<bool>> ici_resiliency_disabled;
};

// Fields of `preferred` win; the rest come from `fallback`.
NodeFacts overlay(const NodeFacts& preferred, const NodeFacts& fallback);

// cloud.google.com/gke-tpu-accelerator, gke-tpu-topology, gke-accelerator-count, gke-tpu-ici-resiliency; an
// Error names the label whose value is not a count of chips.
Result<NodeFacts> facts_from_node_labels(const std::map<std::string, std::string>& labels);

// The slice this host belongs to, from declared facts checked against what discovery found
// (`found` chips of generation `found_generation`). Without a declared topology the host is taken to
// be a whole single-host slice of the chips found. An Error names the source of a mismatch, e.g.
// "found 4 chips but node label cloud.google.com/gke-accelerator-count says 8".
Result<topology::SliceSpec> resolve_slice(const NodeFacts& facts, topology::Generation found_generation, int found);

// The slice the facts alone declare (for `--simulate node`): accelerator and topology are required,
// chips per host defaults to the generation's usual VM for that topology.
Result<topology::SliceSpec> declared_slice(const NodeFacts& facts);

}  // namespace tpustack::deviceplugin
