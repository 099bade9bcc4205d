#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/config/setting_resolver.h"
#include "common/kube/kube_client.h"
#include "common/metrics/metrics_registry.h"
#include "extender/provisioner/node_pool_provider.h"
#include "extender/provisioner/provisioning_controller.h"

namespace tpustack::provisioning {

// What `tpu-extender serve` needs to run the provisioner (issue 5 command line).
struct ProvisionerOptions {
  std::string provider = "none";  // gke | simulated | dry-run | none
  std::string gke_project;        // empty: from the metadata server
  std::string gke_location;
  std::string gke_cluster;
  std::string gke_api_url = "https://container.googleapis.com";
  std::string compute_api_url = "https://compute.googleapis.com";  // tpu7x workload policies
  std::vector<std::string> node_oauth_scopes;                      // empty: cloud-platform
  std::string metadata_url = "http://metadata.google.internal";
  std::chrono::nanoseconds gke_poll_interval = std::chrono::seconds(5);
  std::chrono::nanoseconds pool_deletion_grace = std::chrono::seconds(30);
  std::chrono::nanoseconds simulated_node_delay = std::chrono::seconds(5);
  int max_pool_operations = 1;
  bool cleanup_only = false;
  int max_pools = 0;
  int max_chips = 0;
  bool leader_election = true;
  std::string lease_namespace;  // empty: the pod's own namespace, else default (see lease_namespace())
  std::string identity;         // empty: $POD_NAME, else the host name
  PoolDefaults pool_defaults;
  std::string service_account_namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// --provisioner, --gke-project, --gke-location, --gke-cluster, --gke-node-zone, --pool-deletion-grace,
// --simulated-node-delay, --max-pool-operations, --cleanup-only, and the less common
// --max-provisioned-pools, --max-provisioned-chips, --gke-api-url, --compute-api-url, --metadata-url,
// --lease-namespace (alias --provisioner-lease-namespace), --no-leader-election.
void add_provisioner_flags(CLI::App& app, ProvisionerOptions& options);

// The same settings as YAML keys under `provisioner:` (see provisioner_config_keys()); a flag given on
// the command line wins over the file. An Error names file, line and key.
Result<void> apply_provisioner_config(const config::SettingResolver& resolver, const CLI::App& app,
                                      ProvisionerOptions& options);
const std::set<std::string>& provisioner_config_keys();

// The provider and controller `serve` runs; start() returns nullptr for --provisioner none, and the GKE
// provider's Error when the cluster cannot be used.
class Provisioner {
 public:
  static Result<std::unique_ptr<Provisioner>> start(const ProvisionerOptions& options, kube::KubeClient& client,
                                                    metrics::MetricsRegistry& registry);
  ~Provisioner();

  NodePoolProvider& provider() { return *provider_; }
  ProvisioningController& controller() { return *controller_; }

 private:
  Provisioner() = default;
  std::unique_ptr<NodePoolProvider> provider_;
  std::unique_ptr<ProvisioningController> controller_;
};

// Where the Lease lives: --lease-namespace, else the pod's own namespace ($POD_NAMESPACE from the
// downward API, else the service account's namespace file), else "default".
std::string lease_namespace(const ProvisionerOptions& options);

// Controller settings from the options (lease included when leader election is on).
ControllerSettings controller_settings(const ProvisionerOptions& options);

}  // namespace tpustack::provisioning
