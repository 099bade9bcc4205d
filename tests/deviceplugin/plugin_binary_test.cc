// The real tpu-device-plugin program against the fake kubelet.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deviceplugin/discovery/node_labels.h"
#include "tests/deviceplugin/fake_tpu_host.h"
#include "tests/deviceplugin/temp_dir.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/kubelet/fake_kubelet.h"
#include "tests/fakes/kubelet/fake_pod_resources.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/result_matchers.h"

namespace tpustack::deviceplugin {
namespace {

using tpustack::testing::value_of;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fakes::DeviceList;
using fakes::FakeKubelet;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;
using tpustack::testing::ChildProcess;
using tpustack::testing::free_port;

constexpr auto kWait = 20s;

// tpu-device-plugin as a child process, its output in `log_path`; killed if a test ends early.
class PluginProcess : public ChildProcess {
 public:
  PluginProcess(std::vector<std::string> args, const std::string& log_path, const std::vector<std::string>& env = {})
      : ChildProcess(with_binary(std::move(args)), env, log_path) {}

 private:
  static std::vector<std::string> with_binary(std::vector<std::string> args) {
    args.insert(args.begin(), std::string(TPUSTACK_BINARY_DIR) + "/deviceplugin/tpu-device-plugin");
    if (std::find(args.begin(), args.end(), "--metrics-addr") == args.end())
      args.push_back("--metrics-addr=127.0.0.1:0");
    // The plugins of one test share a lock beside their plugin directory, not the node's default.
    const auto plugin_dir = std::find(args.begin(), args.end(), "--plugin-dir");
    if (plugin_dir != args.end() && plugin_dir + 1 != args.end()) {
      const std::string lock_file = *(plugin_dir + 1) + ".lock";
      args.insert(args.end(), {"--lock-file", lock_file});
    }
    return args;
  }
};

// The whole HTTP/1.0 reply to GET `path` on 127.0.0.1:`port`, or "" when nothing answers.
std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) reply.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

// GETs `path` until the reply contains `needle` or kWait passes; returns the last reply.
std::string http_get_until(int port, const std::string& path, const std::string& needle) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::string reply = http_get(port, path);
  while (reply.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    reply = http_get(port, path);
  }
  return reply;
}

TEST(PluginBinaryTest, SimulatedPluginRegistersAndCleansUpOnSigterm) {
  TempDir dir;
  FakeKubelet kubelet(dir / "plugins");
  PluginProcess plugin({"--simulate", "v6e:4x4:4", "--plugin-dir", dir / "plugins"}, dir / "log");
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait)) << plugin.output();
  ASSERT_TRUE(kubelet.wait_for_devices([](const DeviceList& d) { return d.size() == 4; }, kWait));
  v1beta1::ContainerAllocateResponse response;
  ASSERT_TRUE(kubelet.allocate({"vfio0", "vfio1", "vfio2", "vfio3"}, &response).ok());
  EXPECT_EQ(response.envs().at("TPU_ACCELERATOR_TYPE"), "v6e-16");
  EXPECT_EQ(response.devices_size(), 0);  // simulated /dev/vfio paths do not exist here
  // SIGHUP (a closed terminal, a reload habit) used to end the plugin without unregistering; it is ignored.
  plugin.signal(SIGHUP);
  for (int i = 0; i < 100 && plugin.output().find("SIGHUP ignored") == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_THAT(plugin.output(), HasSubstr("SIGHUP ignored"));
  kubelet.restart();
  ASSERT_TRUE(kubelet.wait_for_registrations(2, kWait)) << plugin.output();
  EXPECT_EQ(plugin.terminate(kWait), 0) << plugin.output();
  EXPECT_FALSE(fs::exists(dir / "plugins/tpu-device-plugin.sock"));
  EXPECT_THAT(plugin.output(), HasSubstr("received SIGTERM"));
}

TEST(PluginBinaryTest, SecondInstanceWaitsForTheLock) {
  TempDir dir;
  FakeKubelet kubelet(dir / "plugins");
  PluginProcess first({"--simulate", "v5e:2x4:8", "--plugin-dir", dir / "plugins"}, dir / "first.log");
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait)) << first.output();
  PluginProcess second({"--simulate", "v5e:2x4:8", "--plugin-dir", dir / "plugins"}, dir / "second.log");
  ASSERT_TRUE(second.wait_for_output("waiting for it to exit", kWait)) << second.output();
  EXPECT_EQ(kubelet.registrations(), 1);
  EXPECT_EQ(first.terminate(kWait), 0);
  ASSERT_TRUE(kubelet.wait_for_registrations(2, kWait)) << second.output();
  EXPECT_TRUE(fs::exists(dir / "plugins/tpu-device-plugin.sock"));
  EXPECT_EQ(second.terminate(kWait), 0);
}

TEST(PluginBinaryTest, TheLockOutlivesThePluginDirectory) {
  // The lock was a file in the plugin directory, which the kubelet empties when it starts and which
  // may be deleted and made anew: an instance started after either locked a new file and served too.
  TempDir dir;
  const std::string plugins = dir / "plugins";
  const std::vector<std::string> args = {"--simulate", "v5e:2x4:8", "--plugin-dir", plugins};
  auto kubelet = std::make_unique<FakeKubelet>(plugins);
  PluginProcess first(args, dir / "first.log");
  ASSERT_TRUE(kubelet->wait_for_registrations(1, kWait)) << first.output();
  kubelet->restart();
  ASSERT_TRUE(kubelet->wait_for_registrations(2, kWait)) << first.output();
  PluginProcess second(args, dir / "second.log");
  ASSERT_TRUE(second.wait_for_output("waiting for it to exit", kWait)) << second.output();

  kubelet.reset();
  // The first instance may be making its socket anew meanwhile, as it would under a real `rm -rf`: retry until
  // the directory is gone.
  std::error_code removing;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::remove_all(plugins, removing);
    if (!removing) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(removing) << removing.message();
  kubelet = std::make_unique<FakeKubelet>(plugins);
  ASSERT_TRUE(kubelet->wait_for_registrations(1, kWait)) << first.output();
  PluginProcess third(args, dir / "third.log");
  ASSERT_TRUE(third.wait_for_output("waiting for it to exit", kWait)) << third.output();
  EXPECT_THAT(second.output(), Not(HasSubstr("serving v1beta1.DevicePlugin")));
  EXPECT_THAT(third.output(), Not(HasSubstr("serving v1beta1.DevicePlugin")));

  EXPECT_EQ(first.terminate(kWait), 0);
  ASSERT_TRUE(kubelet->wait_for_registrations(2, kWait)) << second.output() << third.output();
  EXPECT_EQ(second.terminate(kWait), 0);
  EXPECT_EQ(third.terminate(kWait), 0);
}

TEST(PluginBinaryTest, SysfsHostHealthAndDeclaredCountMismatch) {
  TempDir dir;
  const auto host = testing::write_fake_tpu_host(dir / "host", topology::Generation::kV5e, 8);
  // One chip has lost its IOMMU group: 7 chips found, 8 declared.
  const std::string link = host.sysfs_root + "/bus/pci/devices/0000:00:0a.0/iommu_group";
  const auto target = fs::read_symlink(link);
  fs::remove(link);
  { std::ofstream(dir / "plugin.yaml") << "discoveryRetry: 200ms\nnode:\n  chipsPerHost: 8\n"; }
  FakeKubelet kubelet(dir / "plugins");
  PluginProcess plugin(
      {"--config", dir / "plugin.yaml", "--plugin-dir", dir / "plugins", "--sysfs-root", host.sysfs_root, "--dev-root",
       host.dev_root, "--health-interval", "100ms", "--topology", "2x4"},
      dir / "log");
  ASSERT_TRUE(
      plugin.wait_for_output("found 7 v5e chips but " + (dir / "plugin.yaml") + " node.chipsPerHost says 8", kWait))
      << plugin.output();
  EXPECT_EQ(kubelet.registrations(), 0);
  fs::create_directory_symlink(target, link);
  ASSERT_TRUE(kubelet.wait_for_devices([](const DeviceList& d) { return d.size() == 8; }, kWait)) << plugin.output();
  EXPECT_EQ(kubelet.devices()[6].numa_nodes, std::vector<long long>{1});

  fs::remove(host.dev_root + "/vfio/6");
  ASSERT_TRUE(
      kubelet.wait_for_devices([](const DeviceList& d) { return fakes::health_of(d, "vfio6") == "Unhealthy"; }, kWait));
  std::ofstream(host.dev_root + "/vfio/6") << "";
  ASSERT_TRUE(
      kubelet.wait_for_devices([](const DeviceList& d) { return fakes::health_of(d, "vfio6") == "Healthy"; }, kWait));
  EXPECT_THAT(plugin.output(), HasSubstr("chip vfio6 (pci 0000:00:0a) is Unhealthy: /dev/vfio/6 is missing"));
  EXPECT_EQ(plugin.terminate(kWait), 0);
}

TEST(PluginBinaryTest, BadCommandLineExitsNonZero) {
  TempDir dir;
  PluginProcess plugin({"--simulate", "v6e:4x4:8", "--plugin-dir", dir.path()}, dir / "log");
  EXPECT_EQ(plugin.wait(kWait), 2) << plugin.output();
  EXPECT_THAT(plugin.output(), HasSubstr("ct6e-standard-8t"));
}

TEST(PluginBinaryTest, MetricsAndHealthz) {
  TempDir dir;
  std::filesystem::create_directories(dir / "pod-resources");
  fakes::FakePodResources pod_resources(dir / "pod-resources/kubelet.sock");
  pod_resources.set_assignments({{"train-0", "main", "google.com/tpu", {"vfio0", "vfio1"}}});
  {
    std::ofstream(dir / "plugin.yaml") << "simulate: v6e:2x4:8\npodResourcesSocket: "
                                       << (dir / "pod-resources/kubelet.sock") << "\nhealth:\n  interval: 100ms\n";
  }
  const int port = free_port();
  PluginProcess plugin({"--config", dir / "plugin.yaml", "--plugin-dir", dir / "plugins", "--metrics-addr",
                        "127.0.0.1:" + std::to_string(port)},
                       dir / "log");
  ASSERT_TRUE(plugin.wait_for_output("retrying until it answers", kWait)) << plugin.output();
  EXPECT_THAT(http_get(port, "/healthz"), HasSubstr("not registered"));
  FakeKubelet kubelet(dir / "plugins");
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait)) << plugin.output();
  v1beta1::ContainerAllocateResponse response;
  ASSERT_TRUE(kubelet.allocate({"vfio0", "vfio1"}, &response).ok());
  // The kubelet counts a registration before the plugin hears the answer, and chips_allocated is
  // polled: wait for the figures rather than read them once.
  const auto metrics = http_get_until(port, "/metrics", "tpu_device_plugin_chips_allocated 2");
  EXPECT_THAT(metrics, HasSubstr("tpu_device_plugin_chips 8"));
  EXPECT_THAT(metrics, HasSubstr("tpu_device_plugin_chips_healthy 8"));
  EXPECT_THAT(metrics, HasSubstr("tpu_device_plugin_allocate_seconds_count 1"));
  EXPECT_THAT(http_get_until(port, "/metrics", "tpu_device_plugin_registrations_total{result=\"ok\"} 1"),
              HasSubstr("registrations_total{result=\"ok\"} 1"));
  const auto healthz = http_get_until(port, "/healthz", "ok: registered with the kubelet");
  EXPECT_THAT(healthz, HasSubstr("200 OK"));
  EXPECT_THAT(healthz, HasSubstr("ok: registered with the kubelet"));
  EXPECT_EQ(plugin.terminate(kWait), 0);
}

nlohmann::json tpu_node(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", name},
            {"labels",
             {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"},
              {"cloud.google.com/gke-tpu-topology", "4x4"},
              {"cloud.google.com/gke-accelerator-count", "4"}}}}}};
}

std::string write_kubeconfig(const TempDir& dir, const std::string& server) {
  std::ofstream(dir / "kubeconfig") << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
                                    << "clusters: [{name: fake, cluster: {server: '" << server << "'}}]\n"
                                    << "users: [{name: plugin, user: {token: plugin-token}}]\n"
                                    << "contexts: [{name: fake, context: {cluster: fake, user: plugin}}]\n";
  return dir / "kubeconfig";
}

TEST(NodeLabelsTest, ReadsTheNodesLabels) {
  TempDir dir;
  fakes::FakeApiServer server;
  server.start();
  server.store().create({"", "nodes"}, "", tpu_node("tpu-node-1"));
  const auto config = api_server_config(write_kubeconfig(dir, server.url())).value();
  const auto labels = value_of(read_node_labels(config, "tpu-node-1"));
  EXPECT_EQ(labels.at("cloud.google.com/gke-tpu-topology"), "4x4");
  EXPECT_FALSE(read_node_labels(config, "no-such-node").ok());
  server.stop();
}

TEST(PluginBinaryTest, SimulateNodeInventsTheChipsTheLabelsDeclare) {
  TempDir dir;
  fakes::FakeApiServer server;
  server.start();
  server.store().create({"", "nodes"}, "", tpu_node("sim-node-0"));
  FakeKubelet kubelet(dir / "plugins");
  PluginProcess plugin({"--simulate", "node", "--plugin-dir", dir / "plugins"}, dir / "log",
                       {"NODE_NAME=sim-node-0", "KUBECONFIG=" + write_kubeconfig(dir, server.url())});
  ASSERT_TRUE(kubelet.wait_for_devices([](const DeviceList& d) { return d.size() == 4; }, kWait)) << plugin.output();
  v1beta1::ContainerAllocateResponse response;
  ASSERT_TRUE(kubelet.allocate({"vfio0", "vfio1", "vfio2", "vfio3"}, &response).ok());
  EXPECT_EQ(response.envs().at("TPU_TOPOLOGY"), "4x4");
  EXPECT_EQ(plugin.terminate(kWait), 0);
  server.stop();
}

TEST(PluginBinaryTest, NodeLabelsFromTheApiServerDescribeTheSlice) {
  TempDir dir;
  fakes::FakeApiServer server;
  server.start();
  const auto host = testing::write_fake_tpu_host(dir / "host", topology::Generation::kV6e, 4);
  {
    std::ofstream(dir / "plugin.yaml") << "discoveryRetry: 200ms\nkubeconfig: " << write_kubeconfig(dir, server.url())
                                       << "\n";
  }
  FakeKubelet kubelet(dir / "plugins");
  PluginProcess plugin({"--config", dir / "plugin.yaml", "--plugin-dir", dir / "plugins", "--sysfs-root",
                        host.sysfs_root, "--dev-root", host.dev_root},
                       dir / "log", {"NODE_NAME=tpu-node-3"});
  // The Node is not there yet: reported and retried.
  ASSERT_TRUE(plugin.wait_for_output("tpu-node-3", kWait)) << plugin.output();
  EXPECT_EQ(kubelet.registrations(), 0);
  server.store().create({"", "nodes"}, "", tpu_node("tpu-node-3"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait)) << plugin.output();
  v1beta1::ContainerAllocateResponse response;
  ASSERT_TRUE(kubelet.allocate({"vfio0", "vfio1", "vfio2", "vfio3"}, &response).ok());
  EXPECT_EQ(response.envs().at("TPU_TOPOLOGY"), "4x4");
  EXPECT_EQ(response.envs().at("TPU_HOST_BOUNDS"), "2,2,1");
  EXPECT_EQ(response.envs().at("TPU_ACCELERATOR_TYPE"), "v6e-16");
  EXPECT_EQ(plugin.terminate(kWait), 0);
  server.stop();
}

}  // namespace
}  // namespace tpustack::deviceplugin
