#include "extender/provisioning/gke_cluster.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "extender/provisioning/provider_error.h"

namespace tpustack::provisioning {
namespace {

bool has_zone(const GkeCluster& cluster, const std::string& zone) {
  return std::find(cluster.zones.begin(), cluster.zones.end(), zone) != cluster.zones.end();
}

}  // namespace

bool is_zone(const std::string& location) { return std::count(location.begin(), location.end(), '-') >= 2; }

std::string region_of(const std::string& location) {
  return is_zone(location) ? location.substr(0, location.rfind('-')) : location;
}

bool GkeCluster::regional() const { return !is_zone(location); }

GkeCluster parse_cluster(const nlohmann::json& cluster) {
  GkeCluster facts;
  facts.location = cluster.value("location", "");
  for (const auto& zone : cluster.value("locations", nlohmann::json::array())) {
    if (zone.is_string()) facts.zones.push_back(zone.get<std::string>());
  }
  if (facts.zones.empty() && is_zone(facts.location)) facts.zones.push_back(facts.location);
  std::string channel = cluster.value("releaseChannel", nlohmann::json::object()).value("channel", "");
  facts.release_channel = channel == "UNSPECIFIED" ? "" : channel;
  facts.master_version = cluster.value("currentMasterVersion", "");
  return facts;
}

ClusterFit fit_cluster(const GkeCluster& cluster, const std::vector<std::string>& configured_zones) {
  ClusterFit fit;
  const std::string zones = fmt::format("{}", fmt::join(cluster.zones, ", "));
  if (!configured_zones.empty()) {
    fit.default_zone = configured_zones.front();
    if (!has_zone(cluster, fit.default_zone)) {
      fit.unusable =
          fmt::format("configured node zone {} is not one of the cluster's zones ({})", fit.default_zone, zones);
    }
    if (configured_zones.size() > 1) {
      fit.warnings.push_back(
          fmt::format("a TPU pool lives in one zone: pools go to {}, the first configured zone", fit.default_zone));
    }
  } else if (!cluster.regional()) {
    fit.default_zone = cluster.location;
  } else if (cluster.zones.empty()) {
    fit.unusable = "regional cluster " + cluster.location + " reports no zones; configure the node zone";
  } else {
    fit.default_zone = cluster.zones.front();
    fit.warnings.push_back(fmt::format(
        "regional cluster in {} spans zones {}: TPU pools go to {} unless their pod selects {}; configure the zone "
        "of your TPU quota or reservation (provisioner.nodeLocations / --gke-node-zone)",
        cluster.location, zones, fit.default_zone, kZoneSelector));
  }
  if (!cluster.release_channel.empty()) {
    fit.auto_upgrade_off = false;
    fit.warnings.push_back(fmt::format(
        "cluster is on release channel {}, where GKE refuses node pools with auto-upgrade off: pools are created "
        "with GKE's default (auto-upgrade on), and a node upgrade restarts a running slice; add a maintenance "
        "exclusion, or use a cluster without a release channel",
        cluster.release_channel));
  }
  return fit;
}

Result<std::string> pool_zone(const PoolSpec& spec, const GkeCluster& cluster, const ClusterFit& fit) {
  auto selected = spec.labels.find(kZoneSelector);
  if (selected == spec.labels.end()) return fit.default_zone;
  if (!has_zone(cluster, selected->second)) {
    return provider_error(400, "INVALID_ARGUMENT",
                          fmt::format("the pod selects zone {}, which is not one of the cluster's zones ({})",
                                      selected->second, fmt::join(cluster.zones, ", ")));
  }
  return selected->second;
}

}  // namespace tpustack::provisioning
