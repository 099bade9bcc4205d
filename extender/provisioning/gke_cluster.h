#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "extender/provisioning/pool_spec.h"

namespace tpustack::provisioning {

// The pod selector that names a zone; copied into a pool's labels like any selector GKE does not own.
inline constexpr const char* kZoneSelector = "topology.kubernetes.io/zone";

// What GET .../clusters/C says that decides how its pools are built (container v1 Cluster).
struct GkeCluster {
  std::string location;            // a region (regional cluster) or a zone
  std::vector<std::string> zones;  // `locations`: every zone a pool without `locations` is replicated to
  std::string release_channel;     // "RAPID", "REGULAR", "STABLE", "EXTENDED"; "" for none
  std::string master_version;

  bool regional() const;
};

GkeCluster parse_cluster(const nlohmann::json& cluster);

// "us-east5-b" is a zone of "us-east5"; a region is its own region.
bool is_zone(const std::string& location);
std::string region_of(const std::string& location);

// How pools are built on one cluster, decided once at start.
struct ClusterFit {
  std::string default_zone;             // the one zone of a pool whose pod names none
  bool auto_upgrade_off = true;         // GKE refuses autoUpgrade false on a release channel; then it is left out
  std::vector<std::string> warnings;    // what the operator should know, logged at start
  std::optional<std::string> unusable;  // why no pool can be created on this cluster
};

// Every TPU pool lives in exactly one zone: a pool without `locations` on a regional cluster becomes one
// slice per zone. The zone is the first configured zone, else a zonal cluster's own, else (regional, none
// configured) the cluster's first zone, with a warning. A configured zone outside the cluster is unusable.
ClusterFit fit_cluster(const GkeCluster& cluster, const std::vector<std::string>& configured_zones);

// The zone of one pool: the zone its pod selects (kZoneSelector) or the default. A provider_error
// (INVALID_ARGUMENT, permanent) when the pod selects a zone the cluster does not have.
Result<std::string> pool_zone(const PoolSpec& spec, const GkeCluster& cluster, const ClusterFit& fit);

}  // namespace tpustack::provisioning
