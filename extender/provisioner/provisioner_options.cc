#include "extender/provisioner/provisioner_options.h"

#include <unistd.h>

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "common/config/duration.h"
#include "common/kube/cluster_config.h"
#include "extender/provisioner/dry_run_provider.h"
#include "extender/provisioner/gke_provider.h"
#include "extender/provisioner/simulated_provider.h"

namespace tpustack::provisioning {
namespace {

void add_duration(CLI::App& app, const std::string& flag, std::chrono::nanoseconds& target, const std::string& help) {
  app.add_option_function<std::string>(
         flag,
         [&target, flag](const std::string& text) {
           auto parsed = config::parse_duration(text);
           if (!parsed) throw CLI::ValidationError(flag, parsed.error().message);
           target = *parsed;
         },
         help)
      ->default_str(config::format_duration(target));
}

std::string default_identity() {
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) return pod;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

void add_provisioner_flags(CLI::App& app, ProvisionerOptions& options) {
  app.add_option("--provisioner", options.provider, "Node-pool provisioning: gke, simulated, dry-run or none")
      ->check(CLI::IsMember({"gke", "simulated", "dry-run", "none"}))
      ->capture_default_str();
  app.add_option("--gke-project", options.gke_project, "GCP project of the cluster (default: metadata server)");
  app.add_option("--gke-location", options.gke_location, "Cluster location (default: metadata server)");
  app.add_option("--gke-cluster", options.gke_cluster, "Cluster name (default: metadata server)");
  app.add_option_function<std::string>(
      "--gke-node-zone", [&options](const std::string& zone) { options.pool_defaults.node_locations = {zone}; },
      "Zone of the TPU pools (default: a zonal cluster's zone, a regional cluster's first)");
  add_duration(app, "--pool-deletion-grace", options.pool_deletion_grace,
               "How long a pool outlives its finished or deleted owner");
  add_duration(app, "--simulated-node-delay", options.simulated_node_delay,
               "simulated provider: delay before nodes appear or go");
  app.add_option("--max-pool-operations", options.max_pool_operations, "Pool operations in flight at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--cleanup-only", options.cleanup_only, "Delete finished pools, never create any");
  app.add_option("--max-provisioned-pools", options.max_pools, "Cap on pools we own at once (0: none)");
  app.add_option("--max-provisioned-chips", options.max_chips, "Cap on chips in pools we own (0: none)");
  app.add_option("--gke-api-url", options.gke_api_url, "GKE API base URL")->capture_default_str();
  app.add_option("--compute-api-url", options.compute_api_url, "Compute Engine API base URL (workload policies)")
      ->capture_default_str();
  app.add_option("--metadata-url", options.metadata_url, "Metadata server base URL")->capture_default_str();
  app.add_option("--lease-namespace,--provisioner-lease-namespace", options.lease_namespace,
                 "Namespace of the leader-election Lease (default: the pod's own namespace, else default)");
  app.add_flag("!--no-leader-election", options.leader_election, "Provision without holding the Lease");
}

const std::set<std::string>& provisioner_config_keys() {
  static const std::set<std::string> keys = {
      "provisioner.provider",
      "provisioner.gkeProject",
      "provisioner.gkeLocation",
      "provisioner.gkeCluster",
      "provisioner.gkeApiUrl",
      "provisioner.computeApiUrl",
      "provisioner.metadataUrl",
      "provisioner.gkePollInterval",
      "provisioner.poolDeletionGrace",
      "provisioner.simulatedNodeDelay",
      "provisioner.maxPoolOperations",
      "provisioner.cleanupOnly",
      "provisioner.maxProvisionedPools",
      "provisioner.maxProvisionedChips",
      "provisioner.leaderElection",
      "provisioner.leaseNamespace",
      "provisioner.nodeServiceAccount",
      "provisioner.nodeLocations",
      "provisioner.nodeOauthScopes",
      "provisioner.maxPodsPerNode",
      "provisioner.secureBoot",
      "provisioner.workloadPolicyPrefix",
  };
  return keys;
}

Result<void> apply_provisioner_config(const config::SettingResolver& resolver, const CLI::App& app,
                                      ProvisionerOptions& options) {
  std::optional<Error> failed;  // the first key that could not be read
  // A key without a flag (nullptr) is set from the file alone.
  auto set = [&](const char* key, const char* flag, auto& target) {
    auto applied = resolver.apply({flag == nullptr ? "" : flag, key}, flag != nullptr && app.count(flag) > 0, target);
    if (!applied && !failed) failed = applied.error();
  };
  set("provisioner.provider", "--provisioner", options.provider);
  set("provisioner.gkeProject", "--gke-project", options.gke_project);
  set("provisioner.gkeLocation", "--gke-location", options.gke_location);
  set("provisioner.gkeCluster", "--gke-cluster", options.gke_cluster);
  set("provisioner.gkeApiUrl", "--gke-api-url", options.gke_api_url);
  set("provisioner.computeApiUrl", "--compute-api-url", options.compute_api_url);
  set("provisioner.metadataUrl", "--metadata-url", options.metadata_url);
  set("provisioner.gkePollInterval", nullptr, options.gke_poll_interval);
  set("provisioner.poolDeletionGrace", "--pool-deletion-grace", options.pool_deletion_grace);
  set("provisioner.simulatedNodeDelay", "--simulated-node-delay", options.simulated_node_delay);
  set("provisioner.maxPoolOperations", "--max-pool-operations", options.max_pool_operations);
  set("provisioner.cleanupOnly", "--cleanup-only", options.cleanup_only);
  set("provisioner.maxProvisionedPools", "--max-provisioned-pools", options.max_pools);
  set("provisioner.maxProvisionedChips", "--max-provisioned-chips", options.max_chips);
  set("provisioner.leaderElection", "--no-leader-election", options.leader_election);
  set("provisioner.leaseNamespace", "--lease-namespace", options.lease_namespace);
  set("provisioner.nodeServiceAccount", nullptr, options.pool_defaults.service_account);
  set("provisioner.nodeLocations", "--gke-node-zone", options.pool_defaults.node_locations);
  set("provisioner.nodeOauthScopes", nullptr, options.node_oauth_scopes);
  set("provisioner.maxPodsPerNode", nullptr, options.pool_defaults.max_pods_per_node);
  set("provisioner.secureBoot", nullptr, options.pool_defaults.secure_boot);
  set("provisioner.workloadPolicyPrefix", nullptr, options.pool_defaults.workload_policy_prefix);
  if (failed) return *failed;
  const std::set<std::string> providers = {"gke", "simulated", "dry-run", "none"};
  if (!providers.contains(options.provider)) {
    return Error{resolver.config().source() + ": provisioner.provider: '" + options.provider +
                 "' is not one of gke, simulated, dry-run, none"};
  }
  return {};
}

std::string lease_namespace(const ProvisionerOptions& options) {
  if (!options.lease_namespace.empty()) return options.lease_namespace;
  std::string ns = kube::pod_namespace(options.service_account_namespace_file);
  return ns.empty() ? "default" : ns;
}

ControllerSettings controller_settings(const ProvisionerOptions& options) {
  ControllerSettings settings;
  settings.plan.cleanup_only = options.cleanup_only;
  settings.plan.deletion_grace = options.pool_deletion_grace;
  settings.plan.max_pools = options.max_pools;
  settings.plan.max_chips = options.max_chips;
  settings.plan.defaults = options.pool_defaults;
  settings.max_operations = options.max_pool_operations;
  if (options.leader_election) {
    LeaseSettings lease;
    lease.ns = lease_namespace(options);
    lease.identity = options.identity.empty() ? default_identity() : options.identity;
    settings.lease = lease;
  }
  return settings;
}

Result<std::unique_ptr<Provisioner>> Provisioner::start(const ProvisionerOptions& options, kube::KubeClient& client,
                                                        metrics::MetricsRegistry& registry) {
  if (options.provider == "none") return std::unique_ptr<Provisioner>();
  std::unique_ptr<Provisioner> provisioner(new Provisioner());
  if (options.provider == "gke") {
    GkeSettings gke;
    gke.project = options.gke_project;
    gke.location = options.gke_location;
    gke.cluster = options.gke_cluster;
    gke.api_url = options.gke_api_url;
    gke.compute_url = options.compute_api_url;
    gke.oauth_scopes = options.node_oauth_scopes;
    gke.metadata_url = options.metadata_url;
    gke.poll_interval = std::chrono::duration_cast<std::chrono::milliseconds>(options.gke_poll_interval);
    gke.defaults = options.pool_defaults;
    auto started = GkeProvider::start(gke);
    if (!started) return started.error();
    provisioner->provider_ = std::move(*started);
  } else if (options.provider == "simulated") {
    provisioner->provider_ = std::make_unique<SimulatedProvider>(client, options.simulated_node_delay);
  } else {
    provisioner->provider_ = std::make_unique<DryRunProvider>();
  }
  provisioner->controller_ =
      std::make_unique<ProvisioningController>(client, *provisioner->provider_, controller_settings(options), registry);
  provisioner->controller_->start();
  spdlog::info("provisioner: {} provider, {} operation(s) at once, deletion grace {}{}", options.provider,
               options.max_pool_operations, config::format_duration(options.pool_deletion_grace),
               options.cleanup_only ? ", cleanup only" : "");
  return provisioner;
}

Provisioner::~Provisioner() {
  if (controller_) controller_->stop();
}

}  // namespace tpustack::provisioning
