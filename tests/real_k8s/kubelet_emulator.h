#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/kube/cluster_config.h"
#include "common/kube/informer.h"
#include "common/kube/kube_client.h"

namespace tpustack::testing {

// Plays the kubelets of TPU nodes nobody runs. In a real cluster a new node pool's VMs boot, their kubelets
// register, and the device plugin makes google.com/tpu allocatable; only then does kube-scheduler place pods
// there. Here a TPU Node (one with a machine type or accelerator count label) that is not Ready, or has no
// google.com/tpu allocatable, gets the status its kubelet would report (kubelet_node_status). Nodes are watched,
// so a node is served as soon as it appears.
class KubeletEmulator {
 public:
  using Clock = std::chrono::steady_clock;

  explicit KubeletEmulator(kube::ClusterConfig cluster);
  ~KubeletEmulator();
  KubeletEmulator(const KubeletEmulator&) = delete;
  KubeletEmulator& operator=(const KubeletEmulator&) = delete;

  // When this emulator first saw the node Ready with its chips allocatable (whoever wrote that status).
  std::optional<Clock::time_point> ready_since(const std::string& node) const;
  // How many nodes it had to make Ready itself.
  int nodes_made_ready() const;

 private:
  void serve(const nlohmann::json& node);

  kube::KubeClient client_;
  kube::Informer nodes_;
  mutable std::mutex mu_;
  std::map<std::string, Clock::time_point> ready_since_;
  int made_ready_ = 0;
};

}  // namespace tpustack::testing
