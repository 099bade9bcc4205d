#include "extender/provisioner/provisioner_options.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tpustack::provisioning {
namespace {

using namespace std::chrono_literals;

struct Parsed {
  CLI::App app{"test"};
  ProvisionerOptions options;

  explicit Parsed(std::vector<std::string> args) {
    add_provisioner_flags(app, options);
    std::reverse(args.begin(), args.end());
    app.parse(args);
  }
};

TEST(ProvisionerFlags, DefaultsAreTheContract) {
  Parsed parsed({});
  EXPECT_EQ(parsed.options.provider, "none");
  EXPECT_EQ(parsed.options.pool_deletion_grace, 30s);
  EXPECT_EQ(parsed.options.max_pool_operations, 1);
  EXPECT_FALSE(parsed.options.cleanup_only);
  EXPECT_TRUE(parsed.options.leader_election);
}

TEST(ProvisionerFlags, ParseEveryContractFlag) {
  Parsed parsed({"--provisioner", "gke", "--gke-project", "p", "--gke-location", "us-east5", "--gke-cluster", "c",
                 "--pool-deletion-grace", "1m30s", "--simulated-node-delay", "250ms", "--max-pool-operations", "3",
                 "--cleanup-only"});
  const ProvisionerOptions& o = parsed.options;
  EXPECT_EQ(o.provider, "gke");
  EXPECT_EQ(o.gke_project, "p");
  EXPECT_EQ(o.gke_location, "us-east5");
  EXPECT_EQ(o.gke_cluster, "c");
  EXPECT_EQ(o.pool_deletion_grace, 90s);
  EXPECT_EQ(o.simulated_node_delay, 250ms);
  EXPECT_EQ(o.max_pool_operations, 3);
  EXPECT_TRUE(o.cleanup_only);

  ControllerSettings settings = controller_settings(o);
  EXPECT_EQ(settings.max_operations, 3);
  EXPECT_TRUE(settings.plan.cleanup_only);
  EXPECT_EQ(settings.plan.deletion_grace, 90s);
  ASSERT_TRUE(settings.lease);
  EXPECT_FALSE(settings.lease->identity.empty());
}

TEST(LeaseNamespace, FlagElseThePodsOwnNamespaceElseDefault) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "tpustack-sa-namespace";
  std::ofstream(file) << "from-service-account";
  ::unsetenv("POD_NAMESPACE");
  ProvisionerOptions options;
  options.service_account_namespace_file = "/nonexistent/namespace";
  EXPECT_EQ(lease_namespace(options), "default");
  options.service_account_namespace_file = file.string();
  EXPECT_EQ(lease_namespace(options), "from-service-account");
  ::setenv("POD_NAMESPACE", "from-downward-api", 1);
  EXPECT_EQ(lease_namespace(options), "from-downward-api");
  EXPECT_EQ(controller_settings(options).lease->ns, "from-downward-api");
  ::unsetenv("POD_NAMESPACE");

  EXPECT_EQ(Parsed({"--lease-namespace", "ops"}).options.lease_namespace, "ops");
  EXPECT_EQ(Parsed({"--provisioner-lease-namespace", "ops"}).options.lease_namespace, "ops");
  options.lease_namespace = "ops";
  EXPECT_EQ(lease_namespace(options), "ops");
  std::filesystem::remove(file);
}

TEST(ProvisionerFlags, RejectBadValues) {
  EXPECT_THROW(Parsed({"--provisioner", "aws"}), CLI::ValidationError);
  EXPECT_THROW(Parsed({"--pool-deletion-grace", "soon"}), CLI::ValidationError);
  EXPECT_THROW(Parsed({"--max-pool-operations", "0"}), CLI::ValidationError);
}

TEST(ProvisionerConfig, FileSetsWhatFlagsDoNotAndFlagsWin) {
  auto document = config::ConfigDocument::parse(R"(provisioner:
  provider: simulated
  gkeProject: from-file
  poolDeletionGrace: 5s
  simulatedNodeDelay: 1s
  maxPoolOperations: 2
  cleanupOnly: true
  nodeServiceAccount: sa@p.iam.gserviceaccount.com
  nodeLocations: [us-east5-b]
)",
                                                "serve.yaml")
                      .value();
  EXPECT_TRUE(document.reject_unknown_keys(provisioner_config_keys()));
  Parsed parsed({"--gke-project", "from-flag"});
  EXPECT_TRUE(apply_provisioner_config(config::SettingResolver(document), parsed.app, parsed.options));
  const ProvisionerOptions& o = parsed.options;
  EXPECT_EQ(o.provider, "simulated");
  EXPECT_EQ(o.gke_project, "from-flag");
  EXPECT_EQ(o.pool_deletion_grace, 5s);
  EXPECT_EQ(o.simulated_node_delay, 1s);
  EXPECT_EQ(o.max_pool_operations, 2);
  EXPECT_TRUE(o.cleanup_only);
  EXPECT_EQ(o.pool_defaults.service_account, "sa@p.iam.gserviceaccount.com");
  EXPECT_EQ(o.pool_defaults.node_locations, std::vector<std::string>{"us-east5-b"});
}

TEST(ProvisionerConfig, GkeNodeZoneFlagBeatsNodeLocationsAndScopesAndComputeUrlComeFromTheFile) {
  auto document = config::ConfigDocument::parse(R"(provisioner:
  nodeLocations: [us-east5-b]
  nodeOauthScopes: [https://www.googleapis.com/auth/devstorage.read_only]
  computeApiUrl: http://127.0.0.1:9
)",
                                                "serve.yaml")
                      .value();
  EXPECT_TRUE(document.reject_unknown_keys(provisioner_config_keys()));
  Parsed parsed({"--gke-node-zone", "us-east5-c"});
  EXPECT_TRUE(apply_provisioner_config(config::SettingResolver(document), parsed.app, parsed.options));
  EXPECT_EQ(parsed.options.pool_defaults.node_locations, std::vector<std::string>{"us-east5-c"});
  EXPECT_EQ(parsed.options.node_oauth_scopes,
            std::vector<std::string>{"https://www.googleapis.com/auth/devstorage.read_only"});
  EXPECT_EQ(parsed.options.compute_api_url, "http://127.0.0.1:9");
}

TEST(ProvisionerConfig, UnknownKeysAndProvidersAreErrors) {
  auto typo = config::ConfigDocument::parse("provisioner:\n  poolDeletonGrace: 5s\n", "serve.yaml").value();
  EXPECT_EQ(typo.reject_unknown_keys(provisioner_config_keys()).error().message,
            "serve.yaml:2: provisioner.poolDeletonGrace: unknown key");
  auto bad = config::ConfigDocument::parse("provisioner:\n  provider: aws\n", "serve.yaml").value();
  Parsed parsed({});
  EXPECT_EQ(apply_provisioner_config(config::SettingResolver(bad), parsed.app, parsed.options).error().message,
            "serve.yaml: provisioner.provider: 'aws' is not one of gke, simulated, dry-run, none");
  auto wrong_type = config::ConfigDocument::parse("provisioner:\n  maxPoolOperations: many\n", "serve.yaml").value();
  EXPECT_EQ(apply_provisioner_config(config::SettingResolver(wrong_type), parsed.app, parsed.options).error().message,
            "serve.yaml:2: provisioner.maxPoolOperations: expected an integer, got 'many'");
}

TEST(Provisioner, NoneStartsNothing) {
  ProvisionerOptions options;
  kube::ClusterConfig config;
  config.server = "http://127.0.0.1:1";
  kube::KubeClient client(config);
  metrics::MetricsRegistry registry;
  EXPECT_EQ(Provisioner::start(options, client, registry).value(), nullptr);
}

}  // namespace
}  // namespace tpustack::provisioning
