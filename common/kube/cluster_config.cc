#include "common/kube/cluster_config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "common/encoding/base64.h"
#include "common/files/file_text.h"

namespace tpustack::kube {
namespace {

// The namespace in a service account's namespace file (its first line); empty when there is no such file.
std::string service_account_namespace(const std::string& file) {
  if (!std::filesystem::exists(file)) return "";
  std::string ns = files::read_file_text(file, "service account namespace");
  ns.erase(std::min(ns.find('\n'), ns.size()));
  while (!ns.empty() && ns.back() == ' ') ns.pop_back();
  return ns;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

// A named entry of a kubeconfig list ("clusters", "users", "contexts") and its inner map.
YAML::Node find_named(const YAML::Node& root, const std::string& list, const std::string& inner,
                      const std::string& name, const std::string& source) {
  for (const auto& entry : root[list]) {
    if (entry["name"] && entry["name"].as<std::string>() == name) {
      return entry[inner] ? entry[inner] : YAML::Node(YAML::NodeType::Map);
    }
  }
  throw std::runtime_error(source + ": " + list + " has no entry named '" + name + "'");
}

std::string scalar(const YAML::Node& map, const char* key) {
  const YAML::Node value = map[key];
  return value && value.IsScalar() ? value.as<std::string>() : "";
}

// PEM from `key-data` (base64) or from the file named by `key`.
std::string pem(const YAML::Node& map, const std::string& key, const std::string& base_dir, const std::string& source) {
  std::string data = scalar(map, (key + "-data").c_str());
  if (!data.empty()) {
    try {
      return base64_decode(data);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(source + ": " + key + "-data: " + e.what());
    }
  }
  std::string file = scalar(map, key.c_str());
  return file.empty() ? "" : files::read_file_text(resolve(base_dir, file), key);
}

}  // namespace

ClusterConfig parse_kubeconfig(std::string_view yaml_text, const std::string& source, const std::string& base_dir,
                               std::string_view context) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(source + ": not YAML: " + e.what());
  }
  if (!root.IsMap()) throw std::runtime_error(source + ": not a kubeconfig (expected a map)");
  std::string context_name = context.empty() ? scalar(root, "current-context") : std::string(context);
  if (context_name.empty()) throw std::runtime_error(source + ": no current-context and no context given");

  const YAML::Node ctx = find_named(root, "contexts", "context", context_name, source);
  const std::string cluster_name = scalar(ctx, "cluster");
  if (cluster_name.empty()) throw std::runtime_error(source + ": context '" + context_name + "' names no cluster");
  const YAML::Node cluster = find_named(root, "clusters", "cluster", cluster_name, source);
  const std::string user_name = scalar(ctx, "user");
  const YAML::Node user =
      user_name.empty() ? YAML::Node(YAML::NodeType::Map) : find_named(root, "users", "user", user_name, source);

  ClusterConfig config;
  config.server = scalar(cluster, "server");
  if (config.server.empty()) throw std::runtime_error(source + ": cluster '" + cluster_name + "' has no server");
  while (config.server.size() > 1 && config.server.back() == '/') config.server.pop_back();
  config.ca_pem = pem(cluster, "certificate-authority", base_dir, source);
  config.insecure_skip_tls_verify = scalar(cluster, "insecure-skip-tls-verify") == "true";
  config.client_cert_pem = pem(user, "client-certificate", base_dir, source);
  config.client_key_pem = pem(user, "client-key", base_dir, source);
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    throw std::runtime_error(source + ": user '" + user_name + "' needs both a client certificate and a key");
  }
  config.token = scalar(user, "token");
  config.token_file = resolve(base_dir, scalar(user, "tokenFile"));
  if (user["exec"] || user["auth-provider"]) {
    throw std::runtime_error(source + ": user '" + user_name +
                             "' uses an exec or auth-provider plugin, which is not supported; use a token or "
                             "client certificate");
  }
  std::string ns = scalar(ctx, "namespace");
  if (!ns.empty()) config.ns = ns;
  return config;
}

ClusterConfig load_kubeconfig(const std::string& path, std::string_view context) {
  return parse_kubeconfig(files::read_file_text(path, "kubeconfig"), path,
                          std::filesystem::path(path).parent_path().string(), context);
}

ClusterConfig in_cluster_config(const EnvLookup& env, const std::string& service_account_dir) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    throw std::runtime_error(
        "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (give a kubeconfig "
        "file, or set KUBECONFIG)");
  }
  ClusterConfig config;
  const bool ipv6 = host->find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  config.token_file = service_account_dir + "/token";
  if (!std::filesystem::exists(config.token_file)) {
    throw std::runtime_error("service account token " + config.token_file +
                             " is missing (automountServiceAccountToken: false?)");
  }
  config.ca_pem = files::read_file_text(service_account_dir + "/ca.crt", "service account CA");
  if (std::string ns = service_account_namespace(service_account_dir + "/namespace"); !ns.empty()) config.ns = ns;
  return config;
}

ClusterConfig in_cluster_config() {
  return in_cluster_config(
      [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        return value ? std::optional<std::string>(value) : std::nullopt;
      },
      std::string(kServiceAccountDir));
}

std::string pod_namespace(const std::string& service_account_namespace_file) {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) return ns;
  try {
    return service_account_namespace(service_account_namespace_file);
  } catch (const std::runtime_error&) {
    return "";  // unreadable: the caller's default, as when there is none
  }
}

}  // namespace tpustack::kube
