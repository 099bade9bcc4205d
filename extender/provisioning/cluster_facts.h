#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "extender/model/kube_names.h"
#include "extender/provisioning/group_identity.h"

namespace tpustack::provisioning {

// Names shared with the extender are spelled once, in extender/model/kube_names.h.
using extender::names::kAcceleratorLabel;
using extender::names::kNodePoolLabel;
using extender::names::kTopologyLabel;
using extender::names::kTpuResource;
inline constexpr const char* kAcceleratorCountLabel = "cloud.google.com/gke-accelerator-count";
inline constexpr const char* kSpotSelector = "cloud.google.com/gke-spot";
inline constexpr const char* kReservationSelector = "cloud.google.com/reservation-name";
inline constexpr const char* kReservationProjectSelector = "cloud.google.com/reservation-project";
inline constexpr const char* kLocationHintSelector = "cloud.google.com/gke-location-hint";
// Opt-out, as a label or an annotation with value "true"; tpu-provisioner's key is honoured as well.
inline constexpr const char* kOptOutKey = "tpustack.dev/disable-provisioning";
inline constexpr const char* kTpuProvisionerOptOutKey = "tpu-provisioner.cloud.google.com/disable-autoprovisioning";

// Whether object.status.conditions holds {type, status: value} (and the reason, when given). Any other shape
// of the object, as a half-written or foreign object has, is simply "no".
bool has_condition(const nlohmann::json& object, std::string_view type, std::string_view value,
                   const char* reason = nullptr);

// What the provisioner needs to know about one pod.
struct PodFacts {
  std::string ns;
  std::string name;
  std::string uid;
  std::string phase;           // "Pending", "Running", "Succeeded", "Failed"
  std::string node_name;       // "" until bound
  bool unschedulable = false;  // condition PodScheduled=False, reason Unschedulable
  bool deleting = false;       // metadata.deletionTimestamp is set
  bool opted_out = false;
  int tpu_chips = 0;  // google.com/tpu over all containers (requests, else limits)
  std::map<std::string, std::string> node_selector;
  std::optional<GroupIdentity> group;
  Workload workload;
  nlohmann::json reference;  // apiVersion/kind/metadata, for Events

  bool terminated() const { return phase == "Succeeded" || phase == "Failed"; }
};

PodFacts pod_facts(const nlohmann::json& pod);

// What the provisioner needs to know about one node.
struct NodeFacts {
  std::string name;
  std::map<std::string, std::string> labels;
  bool ready = false;
  bool unschedulable = false;

  std::string label(std::string_view key) const {
    auto it = labels.find(std::string(key));
    return it == labels.end() ? "" : it->second;
  }
};

NodeFacts node_facts(const nlohmann::json& node);

}  // namespace tpustack::provisioning
