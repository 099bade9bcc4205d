#include "tests/real_k8s/kubelet_emulator.h"

#include <cstdlib>
#include <iostream>

#include "common/kube/resource.h"
#include "common/topology/generation.h"
#include "tests/real_k8s/real_control_plane.h"

namespace tpustack::testing {
namespace {

using nlohmann::json;

std::string label(const json& node, const std::string& key) {
  const json labels = node.value("metadata", json::object()).value("labels", json::object());
  auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
}

// Chips per host as the machine type has them (what the device plugin would find), else as GKE's accelerator
// count label says; 0 for a node that is no TPU host.
int chips_of(const json& node) {
  const std::string machine_type = label(node, "node.kubernetes.io/instance-type");
  if (auto machine = topology::parse_machine_type(machine_type); !machine_type.empty() && machine) {
    return machine->chips_per_vm;
  }
  // Not a TPU VM: the label says.
  return std::atoi(label(node, "cloud.google.com/gke-accelerator-count").c_str());
}

bool ready_with_chips(const json& node, int chips) {
  const json status = node.value("status", json::object());
  bool ready = false;
  for (const json& condition : status.value("conditions", json::array())) {
    ready = ready || (condition.value("type", "") == "Ready" && condition.value("status", "") == "True");
  }
  return ready && status.value("allocatable", json::object()).value("google.com/tpu", "") == std::to_string(chips);
}

}  // namespace

KubeletEmulator::KubeletEmulator(kube::ClusterConfig cluster)
    : client_(std::move(cluster)), nodes_(client_, kube::resources::kNodes, {}) {
  nodes_.add_handlers(
      {[this](const json& node) { serve(node); }, [this](const json&, const json& node) { serve(node); }, nullptr});
  nodes_.start();
}

KubeletEmulator::~KubeletEmulator() { nodes_.stop(); }

void KubeletEmulator::serve(const json& node) {
  const int chips = chips_of(node);
  if (chips <= 0) return;
  const std::string name = node["metadata"].value("name", "");
  if (ready_with_chips(node, chips)) {
    std::lock_guard lock(mu_);
    ready_since_.try_emplace(name, Clock::now());
    return;
  }
  auto written = client_.patch(kube::resources::kNodes, "", name, kubelet_node_status(name, chips),
                               kube::PatchType::kMerge, "status");
  if (written) {
    std::lock_guard lock(mu_);
    ++made_ready_;
    return;
  }
  // Deleted meanwhile: a kubelet whose VM is gone reports nothing either.
  if (!kube::not_found(written.error())) {
    std::cerr << "kubelet emulator: cannot write the status of " << name << ": " << written.error().message << "\n";
  }
}

std::optional<KubeletEmulator::Clock::time_point> KubeletEmulator::ready_since(const std::string& node) const {
  std::lock_guard lock(mu_);
  auto it = ready_since_.find(node);
  if (it == ready_since_.end()) return std::nullopt;
  return it->second;
}

int KubeletEmulator::nodes_made_ready() const {
  std::lock_guard lock(mu_);
  return made_ready_;
}

}  // namespace tpustack::testing
