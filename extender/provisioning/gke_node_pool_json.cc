#include "extender/provisioning/gke_node_pool_json.h"

#include <algorithm>
#include <string>

#include "common/topology/generation.h"
#include "extender/provisioning/gke_cluster.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

std::string gke_effect(const std::string& kubernetes_effect) {
  if (kubernetes_effect == "NoExecute") return "NO_EXECUTE";
  if (kubernetes_effect == "PreferNoSchedule") return "PREFER_NO_SCHEDULE";
  return "NO_SCHEDULE";
}

}  // namespace

json node_pool_create_body(const PoolSpec& spec, const PoolDefaults& defaults, const GkePoolOptions& options) {
  json pool = {
      {"name", spec.name},
      {"initialNodeCount", spec.node_count},
  };
  // Without `locations` a regional cluster builds the pool once per zone: three slices for one.
  pool["locations"] = json::array({options.zone});
  if (spec.compact_placement()) {
    pool["placementPolicy"] = {{"type", "COMPACT"}, {"tpuTopology", spec.slice.topology().to_string()}};
  } else if (!spec.workload_policy.empty()) {
    pool["placementPolicy"] = {{"policyName", spec.workload_policy}};
  }
  // Pools are deleted with their job, so an upgrade would only disrupt it; a release channel forbids saying so.
  pool["management"] = {{"autoRepair", true}};
  if (options.auto_upgrade_off) pool["management"]["autoUpgrade"] = false;
  pool["upgradeSettings"] = {{"maxSurge", 1}};
  pool["maxPodsConstraint"] = {{"maxPodsPerNode", std::to_string(defaults.max_pods_per_node)}};

  json config = {{"machineType", spec.slice.machine_type()}};
  if (spec.spot) config["spot"] = true;
  json taints = json::array();
  for (const Taint& taint : spec.taints) {
    if (taint.key == kTpuResource) continue;
    taints.push_back({{"key", taint.key}, {"value", taint.value}, {"effect", gke_effect(taint.effect)}});
  }
  if (!taints.empty()) config["taints"] = taints;
  if (!defaults.service_account.empty()) config["serviceAccount"] = defaults.service_account;
  if (!options.oauth_scopes.empty()) config["oauthScopes"] = options.oauth_scopes;
  config["shieldedInstanceConfig"] = {{"enableIntegrityMonitoring", true}, {"enableSecureBoot", defaults.secure_boot}};
  if (!spec.reservation.empty()) {
    config["reservationAffinity"] = {{"consumeReservationType", "SPECIFIC_RESERVATION"},
                                     {"key", "compute.googleapis.com/reservation-name"},
                                     {"values", json::array({spec.reservation})}};
  }
  config["labels"] = spec.labels;
  config["labels"].erase(kZoneSelector);  // GKE's own node label; the zone is `locations`
  // GKE's own TPU device plugin stays off these nodes, and ours (manifests/deviceplugin selects this label) runs.
  config["labels"]["gke-no-default-tpu-device-plugin"] = "true";
  pool["config"] = config;
  return {{"nodePool", pool}};
}

PoolState parse_node_pool(const json& node_pool) {
  PoolState state;
  state.name = node_pool.value("name", "");
  state.status = parse_pool_status(node_pool.value("status", ""));
  state.status_message = node_pool.value("statusMessage", "");
  state.node_count = node_pool.value("initialNodeCount", 0);
  const json& config = node_pool.value("config", json::object());
  const json labels = config.value("labels", json::object());
  for (const auto& [key, value] : labels.items()) {
    if (value.is_string()) state.labels[key] = value.get<std::string>();
  }
  // A pool that is not a TPU pool never counts against the chip cap. nlohmann's value() throws where machineType or
  // locations has another type, converted here where the pool is read.
  state.chips = 0;
  try {
    if (auto machine = topology::parse_machine_type(config.value("machineType", ""))) {
      const std::size_t zones = node_pool.value("locations", json::array()).size();
      state.chips = machine->chips_per_vm * state.node_count * static_cast<int>(std::max<std::size_t>(zones, 1));
    }
  } catch (const json::exception&) {
    state.chips = 0;
  }
  return state;
}

}  // namespace tpustack::provisioning
