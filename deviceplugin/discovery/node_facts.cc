#include "deviceplugin/discovery/node_facts.h"

#include <charconv>

#include "common/topology/topology.h"

namespace tpustack::deviceplugin {
namespace {

template <class T>
void take_missing(std::optional<Declared<T>>& field, const std::optional<Declared<T>>& fallback) {
  if (!field) field = fallback;
}

Result<Declared<int>> parse_count(const std::string& text, const std::string& origin) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value <= 0) {
    return Error{origin + ": chips per host must be a positive number, got '" + text + "'"};
  }
  return Declared<int>{value, origin};
}

// The single-host shape of `chips` chips: 2x2 / 2x2x1 for four, 2x4 for eight, 1x1 for one.
Result<std::string> single_host_topology(topology::Generation generation, int chips) {
  const bool three_d = topology::info(generation).topology_rank == 3;
  switch (chips) {
    case 1:
      return std::string(three_d ? "1x1x1" : "1x1");
    case 4:
      return std::string(three_d ? "2x2x1" : "2x2");
    case 8:
      return std::string(three_d ? "2x2x2" : "2x4");
    default:
      return Error{"found " + std::to_string(chips) + " " + std::string(topology::info(generation).name) +
                   " chips and no declared topology; no TPU VM has that many chips"};
  }
}

}  // namespace

NodeFacts overlay(const NodeFacts& preferred, const NodeFacts& fallback) {
  NodeFacts out = preferred;
  take_missing(out.accelerator, fallback.accelerator);
  take_missing(out.topology, fallback.topology);
  take_missing(out.chips_per_host, fallback.chips_per_host);
  take_missing(out.ici_resiliency_disabled, fallback.ici_resiliency_disabled);
  return out;
}

Result<NodeFacts> facts_from_node_labels(const std::map<std::string, std::string>& labels) {
  NodeFacts facts;
  const auto label = [&](const std::string& key) -> const std::string* {
    const auto it = labels.find(key);
    return it == labels.end() ? nullptr : &it->second;
  };
  const std::string prefix = "node label ";
  if (const auto* v = label("cloud.google.com/gke-tpu-accelerator")) {
    facts.accelerator = Declared<std::string>{*v, prefix + "cloud.google.com/gke-tpu-accelerator"};
  }
  if (const auto* v = label("cloud.google.com/gke-tpu-topology")) {
    facts.topology = Declared<std::string>{*v, prefix + "cloud.google.com/gke-tpu-topology"};
  }
  if (const auto* v = label("cloud.google.com/gke-accelerator-count")) {
    auto count = parse_count(*v, prefix + "cloud.google.com/gke-accelerator-count");
    if (!count) return count.error();
    facts.chips_per_host = std::move(*count);
  }
  if (const auto* v = label("cloud.google.com/gke-tpu-ici-resiliency")) {
    facts.ici_resiliency_disabled = Declared<bool>{*v == "false", prefix + "cloud.google.com/gke-tpu-ici-resiliency"};
  }
  return facts;
}

Result<topology::SliceSpec> resolve_slice(const NodeFacts& facts, topology::Generation found_generation, int found) {
  const std::string found_name(topology::info(found_generation).name);
  if (facts.accelerator) {
    const auto declared = topology::parse_generation(facts.accelerator->value);
    if (!declared) return Error{facts.accelerator->origin + ": " + declared.error().message};
    if (*declared != found_generation) {
      return Error{"found " + found_name + " chips but " + facts.accelerator->origin + " says '" +
                   facts.accelerator->value + "'"};
    }
  }
  if (facts.chips_per_host && facts.chips_per_host->value != found) {
    return Error{"found " + std::to_string(found) + " " + found_name + " chips but " + facts.chips_per_host->origin +
                 " says " + std::to_string(facts.chips_per_host->value)};
  }
  std::string topology_text;
  if (facts.topology) {
    topology_text = facts.topology->value;
  } else {
    auto single_host = single_host_topology(found_generation, found);
    if (!single_host) return single_host.error();
    topology_text = std::move(*single_host);
  }
  const std::string origin = facts.topology ? facts.topology->origin : "the chips found";
  const auto shape = topology::parse_topology(found_generation, topology_text);
  if (!shape) return Error{origin + ": " + shape.error().message};
  auto slice = topology::SliceSpec::make(found_generation, *shape, found);
  if (!slice) return Error{origin + ": " + slice.error().message};
  return slice;
}

Result<topology::SliceSpec> declared_slice(const NodeFacts& facts) {
  if (!facts.accelerator || !facts.topology) {
    return Error{std::string("simulating this node's chips needs its accelerator and topology (node labels, ") +
                 "--accelerator/--topology or node.* in the config); " +
                 (facts.accelerator ? "topology" : "accelerator") + " is not declared"};
  }
  const auto generation = topology::parse_generation(facts.accelerator->value);
  if (!generation) return generation.error();
  const auto shape = topology::parse_topology(*generation, facts.topology->value);
  if (!shape) return shape.error();
  if (!facts.chips_per_host) return topology::SliceSpec::with_default_host(*generation, *shape);
  return topology::SliceSpec::make(*generation, *shape, facts.chips_per_host->value);
}

}  // namespace tpustack::deviceplugin
