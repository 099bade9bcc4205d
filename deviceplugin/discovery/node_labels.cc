#include "deviceplugin/discovery/node_labels.h"

#include <chrono>
#include <cstdlib>

#include "common/kube/kube_client.h"

namespace tpustack::deviceplugin {

Result<kube::ClusterConfig> api_server_config(const std::string& kubeconfig) {
  if (!kubeconfig.empty()) return kube::load_kubeconfig(kubeconfig);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) return kube::load_kubeconfig(env);
  return kube::in_cluster_config();
}

Result<std::map<std::string, std::string>> read_node_labels(const kube::ClusterConfig& config,
                                                            const std::string& node_name) {
  kube::ClientOptions options;
  options.request_timeout = std::chrono::seconds(10);
  options.user_agent = "tpu-device-plugin";
  options.component = "tpu-device-plugin";
  kube::KubeClient client(config, options);
  const auto node = client.get(kube::resources::kNodes, "", node_name);
  if (!node) return node.error();
  std::map<std::string, std::string> labels;
  const auto metadata = node->find("metadata");
  if (metadata == node->end() || !metadata->is_object()) return labels;
  const auto found = metadata->find("labels");
  if (found == metadata->end() || !found->is_object()) return labels;
  for (auto it = found->begin(); it != found->end(); ++it) {
    if (it->is_string()) labels[it.key()] = it->get<std::string>();
  }
  return labels;
}

}  // namespace tpustack::deviceplugin
