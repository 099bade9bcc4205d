#include "extender/admission/pod_mutation.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <utility>

#include "common/json/parse_json.h"
#include "extender/model/kube_names.h"
#include "extender/model/slice_index.h"
#include "extender/model/tpu_node.h"
#include "extender/model/tpu_pod.h"
#include "extender/placement/pod_request.h"

namespace tpustack::admission {

namespace {

using nlohmann::json;
using Pointer = json::json_pointer;
using EnvList = std::vector<std::pair<std::string, std::string>>;
namespace names = extender::names;

constexpr std::string_view kDefaultScheduler = "default-scheduler";
// Ray's TPU support listens for the multislice coordinator here; JAX reads the address without a port.
constexpr std::string_view kMegascalePort = "8081";

using tpustack::json::member;

std::string text(const json& object, std::string_view key) {
  const auto& value = member(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

// The label, else the annotation of that name: Indexed Jobs set the completion index as an annotation (and, in
// newer Kubernetes, a label too).
std::string metadata_value(const json& metadata, std::string_view key) {
  auto value = text(member(metadata, "labels"), key);
  return value.empty() ? text(member(metadata, "annotations"), key) : value;
}

std::optional<int> whole_number(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

bool requests_tpu(const json& container) {
  const auto& resources = member(container, "resources");
  for (const char* kind : {"limits", "requests"}) {
    const auto& quantity = member(member(resources, kind), names::kTpuResource);
    if (quantity.is_null()) continue;
    auto chips = extender::parse_count_quantity(quantity);
    return !chips || *chips > 0;  // unreadable, but asked for: the API server's validation answers that, not us
  }
  return false;
}

// Hosts of the slice the pod is one worker of, as the extender will place it; 1 when it is not a group member
// of a multi-host slice (or the request cannot be read).
int slice_hosts(const json& pod, const std::string& ns) {
  json named = pod;
  // Job controllers create pods by generateName: admission sees them before the name is given.
  if (text(member(pod, "metadata"), "name").empty()) named["metadata"]["name"] = "(being created)";
  if (text(member(pod, "metadata"), "namespace").empty()) named["metadata"]["namespace"] = ns;
  auto parsed = extender::parse_pod(named);
  if (!parsed) return 1;
  const std::map<std::string, extender::TpuNode> no_nodes;
  const std::map<std::string, extender::TpuPod> no_pods;
  extender::SliceIndex nothing_placed(no_nodes, no_pods);
  auto request = extender::analyze_pod(std::move(*parsed), nothing_placed);
  if (request.role == extender::PodRole::kGroupMember && request.spec) return request.spec->hosts();
  return 1;
}

// "<jobset>-<replicatedjob>-<jobIndex>" for a JobSet's child Job, "<job>" for a plain Indexed Job: pod i of it
// has hostname "<prefix>-<i>". Empty when the pod belongs to neither.
std::string job_hostname_prefix(const json& metadata) {
  auto jobset = metadata_value(metadata, names::kJobSetName);
  auto replicated_job = metadata_value(metadata, names::kJobSetReplicatedJob);
  auto job_index = metadata_value(metadata, names::kJobSetJobIndex);
  if (!jobset.empty() && !replicated_job.empty() && !job_index.empty()) {
    return jobset + "-" + replicated_job + "-" + job_index;
  }
  auto job = metadata_value(metadata, names::kJobName);
  return job.empty() ? metadata_value(metadata, names::kLegacyJobName) : job;
}

// TPU_WORKER_ID and TPU_WORKER_HOSTNAMES for worker `index` of a multi-host slice, as GKE's webhook computes them.
EnvList worker_env(const json& pod, const std::string& ns) {
  const auto& metadata = member(pod, "metadata");
  auto subdomain = text(member(pod, "spec"), "subdomain");
  auto index = whole_number(metadata_value(metadata, names::kCompletionIndex));
  auto prefix = job_hostname_prefix(metadata);
  if (subdomain.empty() || !index || prefix.empty()) return {};
  const int hosts = slice_hosts(pod, ns);
  if (hosts < 2 || *index >= hosts) return {};
  std::string hostnames;
  for (int i = 0; i < hosts; ++i) {
    hostnames += (i == 0 ? "" : ",") + prefix + "-" + std::to_string(i) + "." + subdomain;
  }
  return {{"TPU_WORKER_ID", std::to_string(*index)}, {"TPU_WORKER_HOSTNAMES", hostnames}};
}

// MEGASCALE_* for a slice of a replicated job with several replicas (one slice per child Job): slice 0's worker 0
// coordinates.
EnvList multislice_env(const json& pod) {
  const auto& metadata = member(pod, "metadata");
  auto jobset = metadata_value(metadata, names::kJobSetName);
  auto replicated_job = metadata_value(metadata, names::kJobSetReplicatedJob);
  auto slices = whole_number(metadata_value(metadata, names::kJobSetReplicas));
  auto slice = whole_number(metadata_value(metadata, names::kJobSetJobIndex));
  auto subdomain = text(member(pod, "spec"), "subdomain");
  if (jobset.empty() || replicated_job.empty() || !slices || *slices < 2 || !slice || subdomain.empty()) return {};
  return {{"MEGASCALE_NUM_SLICES", std::to_string(*slices)},
          {"MEGASCALE_SLICE_ID", std::to_string(*slice)},
          {"MEGASCALE_COORDINATOR_ADDRESS", jobset + "-" + replicated_job + "-0-0." + subdomain},
          {"MEGASCALE_PORT", std::string(kMegascalePort)}};
}

void add_scheduler_name(const json& spec, const PodMutationSettings& settings, PodMutation& mutation) {
  const auto& current = member(spec, "schedulerName");
  // The API server defaults an absent name to default-scheduler before admission: that one is not a choice.
  if (current.is_string() && current.get<std::string>() != kDefaultScheduler) return;
  mutation.patch.push_back({{"op", current.is_null() ? "add" : "replace"},
                            {"path", "/spec/schedulerName"},
                            {"value", settings.scheduler_name}});
  mutation.added.emplace_back("schedulerName");
}

void add_toleration(const json& spec, PodMutation& mutation) {
  // The taint GKE and our provisioner put on TPU nodes.
  const extender::Taint tpu_taint{std::string(names::kTpuResource), "present", "NoSchedule"};
  const auto& tolerations = member(spec, "tolerations");
  if (tolerations.is_array()) {
    for (const auto& t : tolerations) {
      extender::Toleration toleration{text(t, "key"), text(t, "operator"), text(t, "value"), text(t, "effect")};
      if (toleration.op.empty()) toleration.op = "Equal";
      if (toleration.tolerates(tpu_taint)) return;
    }
  }
  const json ours = {{"key", names::kTpuResource}, {"operator", "Exists"}, {"effect", "NoSchedule"}};
  if (tolerations.is_array()) {
    mutation.patch.push_back({{"op", "add"}, {"path", "/spec/tolerations/-"}, {"value", ours}});
  } else {
    mutation.patch.push_back({{"op", "add"}, {"path", "/spec/tolerations"}, {"value", json::array({ours})}});
  }
  mutation.added.emplace_back("toleration");
}

// The variables of `wanted` that container `index` does not set yet.
void add_env(const json& container, std::size_t index, const EnvList& wanted, PodMutation& mutation) {
  const auto& env = member(container, "env");
  json missing = json::array();
  for (const auto& [name, value] : wanted) {
    bool present = false;
    if (env.is_array()) {
      for (const auto& var : env) present = present || text(var, "name") == name;
    }
    if (present) continue;
    missing.push_back({{"name", name}, {"value", value}});
    if (std::find(mutation.added.begin(), mutation.added.end(), name) == mutation.added.end()) {
      mutation.added.push_back(name);
    }
  }
  if (missing.empty()) return;
  const Pointer path = Pointer("/spec/containers") / index / "env";
  if (!env.is_array()) {
    mutation.patch.push_back({{"op", "add"}, {"path", path.to_string()}, {"value", missing}});
    return;
  }
  for (auto& var : missing) {
    mutation.patch.push_back({{"op", "add"}, {"path", (path / "-").to_string()}, {"value", std::move(var)}});
  }
}

}  // namespace

PodMutation mutate_pod(const json& pod, const std::string& ns, const PodMutationSettings& settings) {
  PodMutation mutation;
  const auto& spec = member(pod, "spec");
  const auto& containers = member(spec, "containers");
  if (!containers.is_array()) return mutation;
  std::vector<std::size_t> tpu_containers;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    if (requests_tpu(containers[i])) tpu_containers.push_back(i);
  }
  if (tpu_containers.empty()) return mutation;
  add_scheduler_name(spec, settings, mutation);
  add_toleration(spec, mutation);
  EnvList wanted = worker_env(pod, ns);
  for (auto& var : multislice_env(pod)) wanted.push_back(std::move(var));
  for (auto index : tpu_containers) add_env(containers[index], index, wanted, mutation);
  return mutation;
}

}  // namespace tpustack::admission
