#include "common/kube/cluster_config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <yaml-cpp/yaml.h>

#include "common/encoding/base64.h"
#include "common/files/file_text.h"

namespace tpustack::kube {
namespace {

// The namespace in a service account's namespace file (its first line); empty when there is no such file.
Result<std::string> service_account_namespace(const std::string& file) {
  if (!std::filesystem::exists(file)) return std::string();
  auto ns = files::read_file_text(file, "service account namespace");
  if (!ns) return ns;
  ns->erase(std::min(ns->find('\n'), ns->size()));
  while (!ns->empty() && ns->back() == ' ') ns->pop_back();
  return ns;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

std::string scalar(const YAML::Node& map, const char* key) {
  const YAML::Node value = map[key];
  return value && value.IsScalar() ? value.Scalar() : "";
}

// A named entry of a kubeconfig list ("clusters", "users", "contexts") and its inner map.
Result<YAML::Node> find_named(const YAML::Node& root, const std::string& list, const std::string& inner,
                              const std::string& name, const std::string& source) {
  const YAML::Node entries = root[list];
  if (entries && entries.IsSequence()) {
    for (const auto& entry : entries) {
      if (entry.IsMap() && scalar(entry, "name") == name) {
        return entry[inner] ? entry[inner] : YAML::Node(YAML::NodeType::Map);
      }
    }
  }
  return Error{source + ": " + list + " has no entry named '" + name + "'"};
}

// PEM from `key-data` (base64) or from the file named by `key`.
Result<std::string> pem(const YAML::Node& map, const std::string& key, const std::string& base_dir,
                        const std::string& source) {
  std::string data = scalar(map, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = base64_decode(data);
    if (!decoded) return Error{source + ": " + key + "-data: " + decoded.error().message};
    return decoded;
  }
  std::string file = scalar(map, key.c_str());
  if (file.empty()) return std::string();
  return files::read_file_text(resolve(base_dir, file), key);
}

// parse_kubeconfig of a document that is a map.
Result<ClusterConfig> read_kubeconfig(const YAML::Node& root, const std::string& source, const std::string& base_dir,
                                      std::string_view context) {
  std::string context_name = context.empty() ? scalar(root, "current-context") : std::string(context);
  if (context_name.empty()) return Error{source + ": no current-context and no context given"};

  const auto ctx = find_named(root, "contexts", "context", context_name, source);
  if (!ctx) return ctx.error();
  const std::string cluster_name = scalar(*ctx, "cluster");
  if (cluster_name.empty()) return Error{source + ": context '" + context_name + "' names no cluster"};
  const auto cluster = find_named(root, "clusters", "cluster", cluster_name, source);
  if (!cluster) return cluster.error();
  const std::string user_name = scalar(*ctx, "user");
  const auto user = user_name.empty() ? Result<YAML::Node>(YAML::Node(YAML::NodeType::Map))
                                      : find_named(root, "users", "user", user_name, source);
  if (!user) return user.error();

  ClusterConfig config;
  config.server = scalar(*cluster, "server");
  if (config.server.empty()) return Error{source + ": cluster '" + cluster_name + "' has no server"};
  while (config.server.size() > 1 && config.server.back() == '/') config.server.pop_back();
  for (auto [target, map, key] : {std::tuple{&config.ca_pem, &*cluster, "certificate-authority"},
                                  std::tuple{&config.client_cert_pem, &*user, "client-certificate"},
                                  std::tuple{&config.client_key_pem, &*user, "client-key"}}) {
    auto read = pem(*map, key, base_dir, source);
    if (!read) return read.error();
    *target = std::move(*read);
  }
  config.insecure_skip_tls_verify = scalar(*cluster, "insecure-skip-tls-verify") == "true";
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return Error{source + ": user '" + user_name + "' needs both a client certificate and a key"};
  }
  config.token = scalar(*user, "token");
  config.token_file = resolve(base_dir, scalar(*user, "tokenFile"));
  if ((*user)["exec"] || (*user)["auth-provider"]) {
    return Error{source + ": user '" + user_name +
                 "' uses an exec or auth-provider plugin, which is not supported; use a token or client certificate"};
  }
  std::string ns = scalar(*ctx, "namespace");
  if (!ns.empty()) config.ns = ns;
  return config;
}

}  // namespace

Result<ClusterConfig> parse_kubeconfig(std::string_view yaml_text, const std::string& source,
                                       const std::string& base_dir, std::string_view context) {
  // yaml-cpp reports text that is not YAML, and a node of an unexpected kind, by exception; converted here, where
  // the file is read.
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap()) return Error{source + ": not a kubeconfig (expected a map)"};
    return read_kubeconfig(root, source, base_dir, context);
  } catch (const YAML::Exception& e) {
    return Error{source + ": not YAML: " + e.what()};
  }
}

Result<ClusterConfig> load_kubeconfig(const std::string& path, std::string_view context) {
  const auto text = files::read_file_text(path, "kubeconfig");
  if (!text) return text.error();
  return parse_kubeconfig(*text, path, std::filesystem::path(path).parent_path().string(), context);
}

Result<ClusterConfig> in_cluster_config(const EnvLookup& env, const std::string& service_account_dir) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return Error{
        "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (give a kubeconfig "
        "file, or set KUBECONFIG)"};
  }
  ClusterConfig config;
  const bool ipv6 = host->find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  config.token_file = service_account_dir + "/token";
  if (!std::filesystem::exists(config.token_file)) {
    return Error{"service account token " + config.token_file + " is missing (automountServiceAccountToken: false?)"};
  }
  auto ca = files::read_file_text(service_account_dir + "/ca.crt", "service account CA");
  if (!ca) return ca.error();
  config.ca_pem = std::move(*ca);
  auto ns = service_account_namespace(service_account_dir + "/namespace");
  if (!ns) return ns.error();
  if (!ns->empty()) config.ns = std::move(*ns);
  return config;
}

Result<ClusterConfig> in_cluster_config() {
  return in_cluster_config(
      [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        return value ? std::optional<std::string>(value) : std::nullopt;
      },
      std::string(kServiceAccountDir));
}

std::string pod_namespace(const std::string& service_account_namespace_file) {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) return ns;
  auto ns = service_account_namespace(service_account_namespace_file);
  return ns ? std::move(*ns) : "";  // unreadable: the caller's default, as when there is none
}

}  // namespace tpustack::kube
