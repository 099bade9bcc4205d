#include "extender/provisioning/group_identity.h"

#include <charconv>

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

constexpr const char* kJobSetName = "jobset.sigs.k8s.io/jobset-name";
constexpr const char* kReplicatedJob = "jobset.sigs.k8s.io/replicatedjob-name";
constexpr const char* kJobIndex = "jobset.sigs.k8s.io/job-index";
constexpr const char* kCompletionIndex = "batch.kubernetes.io/job-completion-index";
constexpr const char* kJobNameLabel = "batch.kubernetes.io/job-name";
constexpr const char* kLegacyJobNameLabel = "job-name";
constexpr const char* kGroupLabel = "tpustack.dev/group";

// A label, else the annotation of the same key, else "".
std::string meta_value(const json& pod, const char* key) {
  const json& meta = pod.value("metadata", json::object());
  for (const char* field : {"labels", "annotations"}) {
    auto map = meta.find(field);
    if (map == meta.end() || !map->is_object()) continue;
    auto it = map->find(key);
    if (it != map->end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

int parse_index(const std::string& text) {
  int value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) return -1;
  return value;
}

std::string job_name(const json& pod) {
  std::string name = meta_value(pod, kJobNameLabel);
  return name.empty() ? meta_value(pod, kLegacyJobNameLabel) : name;
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
  GroupIdentity id;
  id.ns = pod.value("metadata", json::object()).value("namespace", "default");
  id.index = parse_index(meta_value(pod, kCompletionIndex));

  if (std::string jobset = meta_value(pod, kJobSetName); !jobset.empty()) {
    id.owner_kind = OwnerKind::kJobSet;
    id.owner = jobset;
    id.group = job_name(pod);
    // JobSet names its child Jobs <jobset>-<replicatedJob>-<jobIndex>.
    if (id.group.empty()) id.group = jobset + "-" + meta_value(pod, kReplicatedJob) + "-" + meta_value(pod, kJobIndex);
    return id;
  }
  if (std::string job = job_name(pod); !job.empty() && !meta_value(pod, kCompletionIndex).empty()) {
    id.owner_kind = OwnerKind::kJob;
    id.owner = id.group = job;
    return id;
  }
  if (std::string group = meta_value(pod, kGroupLabel); !group.empty()) {
    id.owner_kind = OwnerKind::kPods;
    id.owner = id.group = group;
    return id;
  }
  return std::nullopt;
}

}  // namespace tpustack::provisioning
