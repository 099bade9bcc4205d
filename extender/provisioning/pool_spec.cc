#include "extender/provisioning/pool_spec.h"

#include <cstdint>
#include <optional>

#include <fmt/format.h>

#include "common/topology/topology.h"

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

// "tpu-<stem, sanitized and cut>-<suffix>", within GKE's 40 characters.
std::string compose_pool_name(const std::string& stem_source, const std::string& suffix) {
  std::string stem = sanitize(stem_source);
  std::size_t room = kMaxPoolName - std::string("tpu-").size() - 1 - suffix.size();
  if (stem.size() > room) stem.resize(room);
  while (!stem.empty() && stem.back() == '-') stem.pop_back();
  return "tpu-" + (stem.empty() ? std::string() : stem + "-") + suffix;
}

}  // namespace

std::string pool_name(const GroupIdentity& group) {
  return compose_pool_name(group.group,
                           hex8(fnv1a32(group.ns + "/" + to_string(group.owner_kind) + "/" + group.group)));
}

std::string pool_name(const Workload& workload, const std::string& spec_hash) {
  return compose_pool_name(workload.name,
                           hex8(fnv1a32(workload.ns + "/" + workload.kind + "/" + workload.name + "/" + spec_hash)));
}

std::string spec_hash(const PoolSpec& spec) {
  std::string canonical =
      fmt::format("{}|{}|{}|{}|{}|{}", spec.slice.machine_type(), spec.slice.hosts(), spec.slice.topology().to_string(),
                  spec.spot, spec.reservation, spec.workload_policy);
  for (const auto& [key, value] : spec.labels) {
    if (key != kSpecHashLabel) canonical += "|" + key + "=" + value;
  }
  return hex8(fnv1a32(canonical));
}

Result<topology::SliceSpec> requested_slice(const PodFacts& pod) {
  std::string accelerator = selector(pod, kAcceleratorLabel);
  std::string topology_text = selector(pod, kTopologyLabel);
  if (accelerator.empty() || topology_text.empty()) {
    return Error{fmt::format("pod {} must select both {} and {}", pod.name, kAcceleratorLabel, kTopologyLabel)};
  }
  if (pod.tpu_chips <= 0) return Error{fmt::format("pod {} requests no {}", pod.name, kTpuResource)};

  std::string refusal;  // why the request is no whole-host slice
  auto slice = topology::SliceSpec::make(accelerator, topology_text, pod.tpu_chips);
  if (slice && (!slice->multi_host() || pod.group)) return slice;
  if (!slice) refusal = slice.error().message;
  // The whole topology on one host, from the generation and shape read again.
  auto host = topology::SliceSpec::with_default_host(accelerator, topology_text);
  if (host) {
    if (!host->multi_host() && pod.tpu_chips <= host->chips_per_host()) return host;
    if (refusal.empty()) {
      return Error{fmt::format(
          "pod {}: {} {} spans {} hosts, so its pods must form a group: a JobSet, an Indexed Job, or the labels {} "
          "and {}",
          pod.name, accelerator, topology_text, host->hosts(), kGroupLabel, extender::names::kGroupSizeLabel)};
    }
  } else if (refusal.empty()) {
    refusal = host.error().message;
  }
  return Error{fmt::format("pod {}: {} {} with {} chips per host: {}", pod.name, accelerator, topology_text,
                           pod.tpu_chips, refusal)};
}

Result<PoolSpec> build_pool_spec(const PodFacts& pod, const PoolDefaults& defaults) {
  auto requested = requested_slice(pod);
  if (!requested) return requested.error();
  const topology::SliceSpec& slice = *requested;
  PoolSpec spec{"", slice, slice.hosts(), !slice.multi_host(), false, "", "", {}, {}, ""};
  spec.spot = selector(pod, kSpotSelector) == "true";
  if (std::string reservation = selector(pod, kReservationSelector); !reservation.empty()) {
    std::string project = selector(pod, kReservationProjectSelector);
    spec.reservation = project.empty() ? reservation : "projects/" + project + "/reservations/" + reservation;
  }
  if (slice.generation() == topology::Generation::kTpu7x && slice.multi_host()) {
    spec.workload_policy = defaults.workload_policy_prefix + slice.topology().to_string();
  }

  spec.labels = copied_selectors(pod);
  spec.labels[kManagedByLabel] = kManagedByValue;
  if (spec.for_workload) {
    spec.labels[std::string(kGroupLabel)] = pod.workload.name;
    spec.labels[std::string(kGroupNamespaceLabel)] = pod.workload.ns;
    spec.labels[kOwnerKindLabel] = pod.workload.kind;
    spec.labels[kOwnerNameLabel] = pod.workload.name;
    spec.labels[kPoolKindLabel] = kWorkloadPoolKind;
  } else {
    spec.labels[std::string(kGroupLabel)] = pod.group->group;
    spec.labels[std::string(kGroupNamespaceLabel)] = pod.group->ns;
    spec.labels[kOwnerKindLabel] = to_string(pod.group->owner_kind);
    spec.labels[kOwnerNameLabel] = pod.group->owner;
  }
  spec.taints.push_back({kTpuTaintKey, "present", "NoSchedule"});
  if (spec.spot) spec.taints.push_back({kSpotSelector, "true", "NoSchedule"});
  spec.hash = spec_hash(spec);
  spec.labels[kSpecHashLabel] = spec.hash;
  spec.name = spec.for_workload ? pool_name(pod.workload, spec.hash) : pool_name(*pod.group);
  return spec;
}

}  // namespace tpustack::provisioning
