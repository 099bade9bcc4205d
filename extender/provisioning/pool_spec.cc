#include "extender/provisioning/pool_spec.h"

#include <cstdint>
#include <optional>

#include <fmt/format.h>

#include "common/topology/topology_error.h"

namespace tpustack::provisioning {
namespace {

constexpr std::size_t kMaxPoolName = 40;  // GKE's limit on node-pool names
constexpr const char* kTpuTaintKey = "google.com/tpu";

std::uint32_t fnv1a32(const std::string& text) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

std::string hex8(std::uint32_t value) { return fmt::format("{:08x}", value); }

// Lower-case letters, digits and single dashes, as GKE pool names allow.
std::string sanitize(const std::string& text) {
  std::string out;
  for (char c : text) {
    char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool ok = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (ok) {
      out += lower;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  return out;
}

std::string selector(const PodFacts& pod, std::string_view key) {
  auto it = pod.node_selector.find(std::string(key));
  return it == pod.node_selector.end() ? "" : it->second;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// Selector entries GKE does not set by itself must become node labels, or the pod never matches its
// own pool; GKE's own keys (cloud.google.com/, google.com/) are left to GKE, except the two that are
// plain labels on GKE nodes too.
std::map<std::string, std::string> copied_selectors(const PodFacts& pod) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : pod.node_selector) {
    bool gke_key = starts_with(key, "cloud.google.com/") || starts_with(key, "google.com/");
    bool plain_label = key == kLocationHintSelector || key == "cloud.google.com/gke-tpu-ici-resiliency";
    if (!gke_key || plain_label) out[key] = value;
  }
  return out;
}

}  // namespace

std::string pool_name(const GroupIdentity& group) {
  std::string suffix = hex8(fnv1a32(group.ns + "/" + to_string(group.owner_kind) + "/" + group.group));
  std::string stem = sanitize(group.group);
  std::size_t room = kMaxPoolName - std::string("tpu-").size() - 1 - suffix.size();
  if (stem.size() > room) stem.resize(room);
  while (!stem.empty() && stem.back() == '-') stem.pop_back();
  return "tpu-" + (stem.empty() ? std::string() : stem + "-") + suffix;
}

std::string spec_hash(const PoolSpec& spec) {
  std::string canonical =
      fmt::format("{}|{}|{}|{}|{}|{}", spec.slice.machine_type(), spec.node_count(), spec.slice.topology().to_string(),
                  spec.spot, spec.reservation, spec.workload_policy);
  for (const auto& [key, value] : spec.labels) {
    if (key != kSpecHashLabel) canonical += "|" + key + "=" + value;
  }
  return hex8(fnv1a32(canonical));
}

PoolSpec build_pool_spec(const PodFacts& leader, const PoolDefaults& defaults) {
  if (!leader.group)
    throw PoolSpecError("pod " + leader.name + " is in no group (JobSet, Indexed Job or tpustack.dev/group)");
  std::string accelerator = selector(leader, kAcceleratorLabel);
  std::string topology_text = selector(leader, kTopologyLabel);
  if (accelerator.empty() || topology_text.empty()) {
    throw PoolSpecError(
        fmt::format("pod {} must select both {} and {}", leader.name, kAcceleratorLabel, kTopologyLabel));
  }
  if (leader.tpu_chips <= 0) throw PoolSpecError(fmt::format("pod {} requests no {}", leader.name, kTpuResource));

  // Chips per host come from the pod's request, as GKE picks the machine type; SliceSpec rejects VMs
  // that cannot build the topology.
  std::optional<topology::SliceSpec> slice;
  try {
    slice = topology::SliceSpec::make(accelerator, topology_text, leader.tpu_chips);
  } catch (const topology::TopologyError& e) {
    throw PoolSpecError(fmt::format("pod {}: {} {} with {} chips per host: {}", leader.name, accelerator, topology_text,
                                    leader.tpu_chips, e.what()));
  }

  PoolSpec spec{pool_name(*leader.group), *slice, false, "", "", {}, {}, "", *leader.group};
  spec.spot = selector(leader, kSpotSelector) == "true";
  if (std::string reservation = selector(leader, kReservationSelector); !reservation.empty()) {
    std::string project = selector(leader, kReservationProjectSelector);
    spec.reservation = project.empty() ? reservation : "projects/" + project + "/reservations/" + reservation;
  }
  if (slice->generation() == topology::Generation::kTpu7x && slice->multi_host()) {
    spec.workload_policy = defaults.workload_policy_prefix + slice->topology().to_string();
  }

  spec.labels = copied_selectors(leader);
  spec.labels[kManagedByLabel] = kManagedByValue;
  spec.labels[std::string(kGroupLabel)] = leader.group->group;
  spec.labels[kGroupNamespaceLabel] = leader.group->ns;
  spec.labels[kOwnerKindLabel] = to_string(leader.group->owner_kind);
  spec.labels[kOwnerNameLabel] = leader.group->owner;
  spec.taints.push_back({kTpuTaintKey, "present", "NoSchedule"});
  if (spec.spot) spec.taints.push_back({kSpotSelector, "true", "NoSchedule"});
  spec.hash = spec_hash(spec);
  spec.labels[kSpecHashLabel] = spec.hash;
  return spec;
}

}  // namespace tpustack::provisioning
