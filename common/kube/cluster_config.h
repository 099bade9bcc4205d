#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::kube {

// Where the API server is and how to authenticate to it, from a kubeconfig or the in-cluster
// service account. PEM material is held in memory whether it came from a file or from *-data.
struct ClusterConfig {
  std::string server;  // "https://10.0.0.1:443", "http://127.0.0.1:8080"
  std::string ca_pem;  // empty: the system's trusted roots
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;       // a fixed bearer token
  std::string token_file;  // a bearer token re-read when it rotates (service accounts)
  std::string ns = "default";
};

inline constexpr std::string_view kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// Reads the kubeconfig's `context` (its current-context when empty). Relative file paths are taken
// from `base_dir`, as kubectl does. An Error names `source` and the missing or bad entry.
Result<ClusterConfig> parse_kubeconfig(std::string_view yaml_text, const std::string& source,
                                       const std::string& base_dir, std::string_view context = "");
Result<ClusterConfig> load_kubeconfig(const std::string& path, std::string_view context = "");

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// KUBERNETES_SERVICE_HOST/PORT and the mounted service account (token, ca.crt, namespace).
// An Error when not running in a pod.
Result<ClusterConfig> in_cluster_config(const EnvLookup& env, const std::string& service_account_dir);
Result<ClusterConfig> in_cluster_config();

// The namespace this process's pod runs in: POD_NAMESPACE (set from the downward API), else the mounted service
// account's; empty when neither says.
std::string pod_namespace(const std::string& service_account_namespace_file = std::string(kServiceAccountDir) +
                                                                              "/namespace");

}  // namespace tpustack::kube
