#pragma once

#include <map>
#include <memory>
#include <string>

#include "tests/fakes/kubelet/fake_kubelet.h"
#include "tests/support/child_process.h"

namespace tpustack::e2e {

// What runs on one simulated TPU node: the kubelet's device-plugin side (a FakeKubelet) and the real
// `tpu-device-plugin --simulate`, each with its own plugin directory and metrics port.
class NodeAgent {
 public:
  // `dir` holds its plugin directory and logs; short, since a unix socket path has at most 107 characters.
  // `plugin_config` is the DaemonSet's --config: the kubeconfig it reads its Node's labels with.
  NodeAgent(std::string node, std::string simulate, std::string binary_dir, std::string dir, std::string plugin_config);

  const std::string& node() const { return node_; }
  fakes::FakeKubelet& kubelet() { return *kubelet_; }
  // Healthy chips the plugin advertises now, as the kubelet reports it: 0 while no plugin runs, and after a
  // restart until the new plugin process has registered (before that its socket may not be listening yet).
  int healthy_chips();
  bool plugin_running() { return plugin_ && plugin_->running(); }
  void kill_plugin();
  void start_plugin();
  // What the kubelet does for a container asking for `chips`: GetPreferredAllocation, then Allocate.
  // Returns the container's environment; throws when the plugin refuses.
  std::map<std::string, std::string> allocate(int chips);
  std::string plugin_output() const { return plugin_ ? plugin_->output() : ""; }

 private:
  std::string node_;
  std::string simulate_;
  std::string binary_dir_;
  std::string dir_;
  std::string plugin_config_;
  std::unique_ptr<fakes::FakeKubelet> kubelet_;
  std::unique_ptr<testing::ChildProcess> plugin_;
  int plugin_starts_ = 0;
  int registrations_before_start_ = 0;  // the kubelet's count when the running plugin was started
};

}  // namespace tpustack::e2e
