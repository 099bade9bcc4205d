#include "extender/model/pod_group.h"

#include <charconv>

#include "extender/model/kube_names.h"

namespace tpustack::extender {

namespace {

std::string lookup(const StringMap& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? std::string() : it->second;
}

bool parse_non_negative(const std::string& text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

void read_index(const StringMap& labels, const StringMap& annotations, GroupMember& member) {
  std::string_view source = names::kCompletionIndex;
  std::string text = lookup(labels, names::kCompletionIndex);
  if (text.empty()) text = lookup(annotations, names::kCompletionIndex);
  if (text.empty()) {
    source = names::kStatefulSetPodIndex;
    text = lookup(labels, names::kStatefulSetPodIndex);
  }
  if (text.empty()) {
    member.problem = "no worker index: set " + std::string(names::kCompletionIndex) + " (Indexed Job) or use a " +
                     "StatefulSet (" + std::string(names::kStatefulSetPodIndex) + ")";
  } else if (!parse_non_negative(text, member.index)) {
    member.index = -1;
    member.problem = std::string(source) + " '" + text + "' is not a worker index";
  }
}

// A label, else the annotation of the same key (JobSet writes both).
std::string label_or_annotation(const StringMap& labels, const StringMap& annotations, std::string_view key) {
  auto text = lookup(labels, key);
  return text.empty() ? lookup(annotations, key) : text;
}

void read_unit(const std::string& ns, const StringMap& labels, const StringMap& annotations, GroupMember& member) {
  // Far beyond any TPU fleet; a bound, since the unit's members are kept per slice.
  constexpr int kMaxSlices = 4096;
  int slices = 0;
  auto replicas = label_or_annotation(labels, annotations, names::kJobSetReplicas);
  if (!parse_non_negative(replicas, slices) || slices < 2) return;  // one child Job: a group on its own
  if (slices > kMaxSlices) {
    member.problem = std::string(names::kJobSetReplicas) + " " + replicas + " is more slices than tpu-extender " +
                     "places together (" + std::to_string(kMaxSlices) + ")";
    return;
  }
  auto jobset = label_or_annotation(labels, annotations, names::kJobSetName);
  auto replicated_job = label_or_annotation(labels, annotations, names::kJobSetReplicatedJob);
  auto index = label_or_annotation(labels, annotations, names::kJobSetJobIndex);
  UnitMembership unit{ns + "/" + jobset + "/" + replicated_job, "multislice JobSet " + ns + "/" + jobset, slices, -1};
  if (!parse_non_negative(index, unit.slice) || unit.slice >= slices) {
    unit.slice = -1;
    member.problem = std::string(names::kJobSetJobIndex) + " '" + index + "' is not a slice of the " +
                     std::to_string(slices) + " of " + unit.name;
  }
  member.unit = std::move(unit);
}

}  // namespace

std::optional<GroupMember> group_member(const std::string& ns, const StringMap& labels, const StringMap& annotations) {
  GroupMember member;
  if (auto group = lookup(labels, names::kGroupLabel); !group.empty()) {
    member.key = ns + "/group:" + group;
    member.name = "group " + ns + "/" + group;
    member.pool_owner = ns + "/" + group;
    if (auto size = lookup(labels, names::kGroupSizeLabel); !size.empty()) {
      if (!parse_non_negative(size, member.declared_size) || member.declared_size == 0) {
        member.declared_size = 0;
        member.problem = std::string(names::kGroupSizeLabel) + " '" + size + "' is not a positive number";
      }
    }
  } else if (auto job_key = lookup(labels, names::kJobSetJobKey); !job_key.empty()) {
    auto job = lookup(labels, names::kJobName);
    member.source = GroupSource::kJobSetJob;
    member.key = ns + "/jobset-job:" + job_key;
    member.name = "JobSet job " + ns + "/" + (job.empty() ? lookup(labels, names::kJobSetName) : job);
    if (!job.empty()) member.pool_owner = ns + "/" + job;
    read_unit(ns, labels, annotations, member);
  } else if (lookup(labels, names::kCompletionIndex).empty() && lookup(annotations, names::kCompletionIndex).empty()) {
    return std::nullopt;
  } else {
    auto job = lookup(labels, names::kJobName);
    if (job.empty()) job = lookup(labels, names::kLegacyJobName);
    if (job.empty()) return std::nullopt;  // an index without a job: nothing to group by
    member.source = GroupSource::kIndexedJob;
    member.key = ns + "/job:" + job;
    member.name = "Job " + ns + "/" + job;
    member.pool_owner = ns + "/" + job;
  }
  // The first problem found is the one reported.
  std::optional<std::string> problem = std::move(member.problem);
  read_index(labels, annotations, member);
  if (problem) member.problem = std::move(problem);
  return member;
}

}  // namespace tpustack::extender
