#include "extender/provisioning/group_identity.h"

#include "extender/model/kube_names.h"
#include "extender/model/pod_group.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;
namespace names = extender::names;

extender::StringMap string_map(const json& meta, const char* field) {
  extender::StringMap out;
  auto map = meta.find(field);
  if (map == meta.end() || !map->is_object()) return out;
  for (const auto& [key, value] : map->items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

// A label, else the annotation of the same key (JobSet and the Job controller write both).
std::string meta_value(const extender::StringMap& labels, const extender::StringMap& annotations,
                       std::string_view key) {
  auto it = labels.find(key);
  if (it != labels.end()) return it->second;
  it = annotations.find(key);
  return it == annotations.end() ? "" : it->second;
}

}  // namespace

std::string to_string(OwnerKind kind) {
  switch (kind) {
    case OwnerKind::kJobSet:
      return "JobSet";
    case OwnerKind::kJob:
      return "Job";
    case OwnerKind::kPods:
      return "Pods";
  }
  return "Pods";
}

std::optional<OwnerKind> parse_owner_kind(const std::string& text) {
  for (OwnerKind kind : {OwnerKind::kJobSet, OwnerKind::kJob, OwnerKind::kPods}) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

std::optional<GroupIdentity> group_of(const json& pod) {
  const json& meta = pod.value("metadata", json::object());
  const std::string ns = meta.value("namespace", "default");
  const auto labels = string_map(meta, "labels");
  const auto annotations = string_map(meta, "annotations");
  // Which pods form a group is the extender's decision; this adds only who owns the group.
  auto member = extender::group_member(ns, labels, annotations);
  if (!member) return std::nullopt;

  GroupIdentity id;
  id.ns = ns;
  id.index = member->index;
  id.unit = member->unit;
  std::string job = meta_value(labels, annotations, names::kJobName);
  if (job.empty()) job = meta_value(labels, annotations, names::kLegacyJobName);
  switch (member->source) {
    case extender::GroupSource::kGroupLabel:
      id.owner_kind = OwnerKind::kPods;
      id.owner = id.group = meta_value(labels, annotations, names::kGroupLabel);
      break;
    case extender::GroupSource::kJobSetJob:
      id.owner_kind = OwnerKind::kJobSet;
      id.owner = meta_value(labels, annotations, names::kJobSetName);
      id.group = job.empty() ? member->key.substr(member->key.find(':') + 1) : job;
      break;
    case extender::GroupSource::kIndexedJob:
      id.owner_kind = OwnerKind::kJob;
      id.owner = id.group = job;
      break;
  }
  return id;
}

Workload workload_of(const json& pod) {
  const json& meta = pod.value("metadata", json::object());
  Workload workload{"Pod", meta.value("namespace", "default"), meta.value("name", "")};
  for (const json& owner : meta.value("ownerReferences", json::array())) {
    if (owner.value("controller", false) && !owner.value("kind", "").empty() && !owner.value("name", "").empty()) {
      workload.kind = owner["kind"].get<std::string>();
      workload.name = owner["name"].get<std::string>();
      break;
    }
  }
  return workload;
}

}  // namespace tpustack::provisioning
