#include "extender/placement/pod_request.h"

#include "extender/model/kube_names.h"
#include "extender/placement/multislice_unit.h"

namespace tpustack::extender {

namespace {

std::optional<std::string> check_group(const PodRequest& request) {
  const auto& member = *request.pod.group;
  int hosts = request.spec->hosts();
  std::string slice = request.wanted();
  if (member.problem) return member.name + ": " + *member.problem;
  if (member.declared_size != 0 && member.declared_size != hosts) {
    return member.name + " declares " + std::to_string(member.declared_size) + " pods but " + slice + " needs " +
           std::to_string(hosts);
  }
  if (member.index >= hosts) {
    return "worker index " + std::to_string(member.index) + " of " + member.name + " is beyond the " +
           std::to_string(hosts) + " hosts of " + slice;
  }
  if (request.group && request.group->active_pods > hosts) {
    return member.name + " has " + std::to_string(request.group->active_pods) + " pods but " + slice + " has " +
           std::to_string(hosts) + " hosts";
  }
  return std::nullopt;
}

// A pod may ask for a few chips of a single-host slice (1 chip of a v6e 2x2 host): its spec is the host's.
std::optional<topology::SliceSpec> part_of_one_host(const TpuPod& pod) {
  auto host = topology::SliceSpec::with_default_host(pod.accelerator, pod.topology);
  if (host && !host->multi_host() && pod.chips < host->chips_per_host()) return *host;
  return std::nullopt;
}

}  // namespace

std::string describe(const std::string& accelerator, const topology::SliceSpec& spec) {
  return accelerator + " " + spec.topology().to_string() + " (" + std::to_string(spec.hosts()) +
         (spec.hosts() == 1 ? " host" : " hosts") + " of " + std::to_string(spec.chips_per_host()) + " chips)";
}

std::string PodRequest::wanted() const {
  if (spec) return describe(pod.accelerator, *spec);
  if (!pod.accelerator.empty()) return pod.accelerator + " with " + std::to_string(pod.chips) + " chips";
  return std::to_string(pod.chips) + " TPU chips";
}

PodRequest analyze_pod(TpuPod pod, const SliceIndex& index) {
  PodRequest request;
  request.pod = std::move(pod);
  const TpuPod& p = request.pod;
  if (p.chips == 0) return request;
  request.role = PodRole::kSingleHost;
  if (p.group) request.group = index.group(p.group->key);
  if (!p.topology.empty() && p.accelerator.empty()) {
    request.problem = "nodeSelector names " + std::string(names::kTopologyLabel) + " without " +
                      std::string(names::kAcceleratorLabel);
    return request;
  }
  if (p.topology.empty()) return request;
  auto spec = topology::SliceSpec::make(p.accelerator, p.topology, p.chips);
  if (!spec) {
    request.problem = "pod asks for " + p.accelerator + " " + p.topology + " with " + std::to_string(p.chips) +
                      " chips per pod: " + spec.error().message;
    request.spec = part_of_one_host(p);
    if (request.spec) request.problem.reset();
    return request;
  }
  request.spec = *spec;
  if (!request.spec->multi_host()) return request;
  if (!p.group) {
    // Without a group, 4 chips of "2x4" means half of one 8-chip host, not a 2-host slice.
    if ((request.spec = part_of_one_host(p))) return request;
    request.spec = std::move(*spec);
    request.problem = request.wanted() + " spans several hosts, so its pods must form a group: a JobSet, an " +
                      "Indexed Job, or the labels " + std::string(names::kGroupLabel) + " and " +
                      std::string(names::kGroupSizeLabel);
    return request;
  }
  request.problem = check_group(request);
  request.role = PodRole::kGroupMember;
  if (!request.problem && p.group->unit) request.unit = judge_unit(request, index);
  return request;
}

}  // namespace tpustack::extender
