#pragma once

#include <map>
#include <string>

#include "common/kube/cluster_config.h"

namespace tpustack::deviceplugin {

// How to reach the API server: the kubeconfig at `kubeconfig` when given, else $KUBECONFIG when
// set, else the pod's service account (in-cluster). An Error when none applies or the kubeconfig is bad.
Result<kube::ClusterConfig> api_server_config(const std::string& kubeconfig);

// The labels of Node `node_name` (one GET), or the API server's refusal or silence.
Result<std::map<std::string, std::string>> read_node_labels(const kube::ClusterConfig& config,
                                                            const std::string& node_name);

}  // namespace tpustack::deviceplugin
