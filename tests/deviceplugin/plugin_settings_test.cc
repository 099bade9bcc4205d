#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "deviceplugin/cli/plugin_settings.h"

namespace tpustack::deviceplugin {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

config::ConfigDocument document(std::string_view text, std::string source) {
  return config::ConfigDocument::parse(text, std::move(source)).value();
}

// resolve_settings' Error, or "no error".
std::string refusal(const FlagValues& flags, const config::SettingResolver& resolver) {
  const auto s = resolve_settings(flags, resolver);
  return s ? "no error" : s.error().message;
}

TEST(PluginSettingsTest, NodeFactsComeFromFlagsThenTheConfigFileThenTheEnvironment) {
  const std::map<std::string, std::string> env = {
      {"TPUSTACK_ACCELERATOR", "v5e"}, {"TPUSTACK_CHIPS_PER_HOST", "8"}, {"TPUSTACK_TOPOLOGY", "4x4"}};
  const config::SettingResolver resolver(document("node:\n  topology: 2x4\n", "plugin.yaml"),
                                         [&](const char* name) -> const char* {
                                           const auto it = env.find(name);
                                           return it == env.end() ? nullptr : it->second.c_str();
                                         });
  FlagValues flags;
  flags.accelerator = "v5litepod";
  const auto node = resolve_settings(flags, resolver)->node;
  EXPECT_EQ(node.accelerator->value, "v5litepod");
  EXPECT_EQ(node.accelerator->origin, "--accelerator");
  EXPECT_EQ(node.topology->value, "2x4");
  EXPECT_EQ(node.topology->origin, "plugin.yaml node.topology");
  EXPECT_EQ(node.chips_per_host->value, 8);
  EXPECT_EQ(node.chips_per_host->origin, "environment TPUSTACK_CHIPS_PER_HOST");
  EXPECT_EQ(resolve_slice(node, topology::Generation::kV5e, 8)->topology().to_string(), "2x4");

  const config::SettingResolver zero(config::ConfigDocument{}, [](const char* name) -> const char* {
    return std::string_view(name) == "TPUSTACK_CHIPS_PER_HOST" ? "0" : nullptr;
  });
  EXPECT_THAT(refusal({}, zero),
              HasSubstr("environment TPUSTACK_CHIPS_PER_HOST: chips per host must be a positive number, got 0"));
}

TEST(PluginSettingsTest, Defaults) {
  const auto s = resolve_settings({}, config::SettingResolver(config::ConfigDocument{})).value();
  EXPECT_EQ(s.registration.plugin_dir, "/var/lib/kubelet/device-plugins");
  EXPECT_EQ(s.registration.kubelet_socket, "/var/lib/kubelet/device-plugins/kubelet.sock");
  // Not in the plugin directory, which the kubelet empties when it starts.
  EXPECT_EQ(s.lock_file, "/run/tpu-device-plugin.lock");
  EXPECT_EQ(s.health_interval, 1s);
  EXPECT_EQ(s.metrics_addr, "0.0.0.0:2112");
  EXPECT_TRUE(s.health.check_hardware);
}

TEST(PluginSettingsTest, FlagsOverrideTheConfigFile) {
  const auto config = document(R"(
pluginDir: /plugins
simulate: v5e:2x4:8
simulateDeviceNodes: true
health:
  interval: 250ms
  command: /bin/true
node:
  topology: 2x4
  chipsPerHost: 8
  iciResiliency: false
logFormat: json
)",
                               "plugin.yaml");
  FlagValues flags;
  flags.health_interval = "2s";
  flags.topology = "4x4";
  const auto s = resolve_settings(flags, config::SettingResolver(config)).value();
  EXPECT_EQ(s.registration.plugin_dir, "/plugins");
  EXPECT_EQ(s.registration.kubelet_socket, "/plugins/kubelet.sock");
  ASSERT_TRUE(s.simulate);
  EXPECT_EQ(s.simulate->chips_per_host(), 8);
  EXPECT_TRUE(s.simulate_device_nodes);
  EXPECT_FALSE(s.health.check_hardware);
  EXPECT_EQ(s.health_interval, 2s);
  EXPECT_EQ(s.health.command, "/bin/true");
  EXPECT_EQ(s.node.topology->value, "4x4");
  EXPECT_EQ(s.node.topology->origin, "--topology");
  EXPECT_EQ(s.node.chips_per_host->value, 8);
  EXPECT_EQ(s.node.chips_per_host->origin, "plugin.yaml node.chipsPerHost");
  EXPECT_TRUE(s.node.ici_resiliency_disabled->value);
  EXPECT_TRUE(s.log_json);
}

TEST(PluginSettingsTest, BadValuesAreErrors) {
  EXPECT_THAT(refusal({}, config::SettingResolver(document("healthInterval: 1s\n", "p.yaml"))),
              HasSubstr("p.yaml:1: healthInterval: unknown key"));
  EXPECT_THAT(refusal({}, config::SettingResolver(document("health:\n  interval: soon\n", "p.yaml"))),
              HasSubstr("p.yaml:2: health.interval: invalid duration 'soon'"));
  FlagValues bad_simulate;
  bad_simulate.simulate = "v6e:4x4:8";
  EXPECT_THAT(refusal(bad_simulate, config::SettingResolver(config::ConfigDocument{})), HasSubstr("ct6e-standard-8t"));
  FlagValues flags;
  flags.health_interval = "0s";
  EXPECT_THAT(refusal(flags, config::SettingResolver(config::ConfigDocument{})),
              HasSubstr("--health-interval must be positive"));
  flags.health_interval = "soon";
  EXPECT_THAT(refusal(flags, config::SettingResolver(config::ConfigDocument{})),
              HasSubstr("--health-interval: invalid duration 'soon'"));
}

TEST(PluginSettingsTest, LogFormatFromTheFlagOverTheFile) {
  const auto config = document("logFormat: json\n", "p.yaml");
  EXPECT_TRUE(resolve_settings({}, config::SettingResolver(config))->log_json);
  FlagValues flags;
  flags.log_format = "text";
  EXPECT_FALSE(resolve_settings(flags, config::SettingResolver(config))->log_json);
  flags.log_format = "yaml";
  EXPECT_THAT(refusal(flags, config::SettingResolver(config)),
              HasSubstr("--log-format: unknown log format 'yaml' (expected text or json)"));
}

TEST(PluginSettingsTest, ALockFileInsideThePluginDirectoryIsRefused) {
  FlagValues flags;
  flags.plugin_dir = "/plugins/";
  flags.lock_file = "/plugins/tpu-device-plugin.lock";
  EXPECT_THAT(refusal(flags, config::SettingResolver(config::ConfigDocument{})),
              HasSubstr("lock file /plugins/tpu-device-plugin.lock is inside the plugin directory /plugins/"));
  EXPECT_THAT(refusal({}, config::SettingResolver(
                              document("lockFile: /var/lib/kubelet/device-plugins/sub/x.lock\n", "p.yaml"))),
              HasSubstr("is inside the plugin directory"));
  flags.lock_file = "/plugins.lock";
  EXPECT_EQ(resolve_settings(flags, config::SettingResolver(config::ConfigDocument{}))->lock_file, "/plugins.lock");
}

TEST(PluginSettingsTest, TheManifestConfigMapIsAValidConfig) {
  const auto configmap = YAML::LoadFile(std::string(TPUSTACK_SOURCE_DIR) + "/manifests/deviceplugin/configmap.yaml");
  const auto text = configmap["data"]["plugin.yaml"].as<std::string>();
  const auto s = resolve_settings({}, config::SettingResolver(document(text, "configmap.yaml"))).value();
  EXPECT_EQ(s.health.sysfs_root, "/host/sys");
  EXPECT_EQ(s.pod_resources_socket, "/var/lib/kubelet/pod-resources/kubelet.sock");
  EXPECT_TRUE(s.log_json);
  // The DaemonSet mounts the lock from the host, where every plugin pod of the node sees the same file.
  const auto daemonset = YAML::LoadFile(std::string(TPUSTACK_SOURCE_DIR) + "/manifests/deviceplugin/daemonset.yaml");
  const auto pod = daemonset["spec"]["template"]["spec"];
  std::string volume;
  for (const auto& mount : pod["containers"][0]["volumeMounts"]) {
    if (mount["mountPath"].as<std::string>() == s.lock_file) volume = mount["name"].as<std::string>();
  }
  ASSERT_FALSE(volume.empty()) << "nothing is mounted at " << s.lock_file;
  bool from_the_host = false;
  for (const auto& v : pod["volumes"]) {
    from_the_host |= v["name"].as<std::string>() == volume && v["hostPath"]["path"].as<std::string>("") == s.lock_file;
  }
  EXPECT_TRUE(from_the_host) << "volume " << volume << " is not hostPath " << s.lock_file;
}

}  // namespace
}  // namespace tpustack::deviceplugin
