// The plugin library against the fake kubelet over real unix sockets.
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/topology/container_environment.h"
#include "deviceplugin/discovery/simulated_host.h"
#include "deviceplugin/discovery/sysfs_chips.h"
#include "deviceplugin/health/health_monitor.h"
#include "deviceplugin/server/allocated_chips.h"
#include "deviceplugin/server/registration_loop.h"
#include "deviceplugin/server/ticker.h"
#include "tests/deviceplugin/fake_tpu_host.h"
#include "tests/deviceplugin/running_plugin.h"
#include "tests/deviceplugin/temp_dir.h"
#include "tests/fakes/kubelet/fake_kubelet.h"
#include "tests/fakes/kubelet/fake_pod_resources.h"
#include "tests/support/result_matchers.h"

namespace tpustack::deviceplugin {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fakes::DeviceList;
using fakes::FakeKubelet;
using ::testing::HasSubstr;
using testing::RunningPlugin;
using testing::simulated_inventory;
using testing::TempDir;
using Ids = std::vector<std::string>;

// Generous: the machine running the tests may be loaded.
constexpr auto kWait = 20s;

bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

Ids ids_of(const HostInventory& inventory) {
  Ids ids;
  for (const auto& chip : inventory.chips) ids.push_back(chip.id);
  return ids;
}

// sockaddr_un takes 107 bytes of path: a longer --plugin-dir would serve nowhere the kubelet can dial.
TEST(KubeletProtocolTest, APluginSocketPathTooLongForAUnixSocketIsAnErrorNamingIt) {
  DeviceState state(simulated_inventory("v5e:2x2:4"));
  metrics::MetricsRegistry registry;
  PluginMetrics metrics(registry);
  RegistrationSettings settings;
  settings.plugin_dir = "/tmp/" + std::string(110, 'd');
  EXPECT_THAT(RegistrationLoop::open(settings, state, metrics),
              tpustack::testing::FailsWith(HasSubstr("is longer than the 107 bytes a unix socket allows")));
}

TEST(KubeletProtocolTest, RegistersAndAdvertisesEveryChipWithNuma) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v5e:2x4:8"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  const auto reg = kubelet.last_registration();
  EXPECT_EQ(reg.version, "v1beta1");
  EXPECT_EQ(reg.resource_name, "google.com/tpu");
  EXPECT_EQ(reg.endpoint, "tpu-device-plugin.sock");
  EXPECT_TRUE(reg.get_preferred_allocation_available);
  EXPECT_FALSE(reg.pre_start_required);
  ASSERT_TRUE(kubelet.wait_for_devices([](const DeviceList& d) { return d.size() == 8; }, kWait));
  const auto devices = kubelet.devices();
  EXPECT_EQ(devices[0].id, "vfio0");
  EXPECT_EQ(devices[0].health, "Healthy");
  EXPECT_EQ(devices[0].numa_nodes, std::vector<long long>{0});
  EXPECT_EQ(devices[7].numa_nodes, std::vector<long long>{1});
  v1beta1::DevicePluginOptions options;
  ASSERT_TRUE(kubelet.options(&options).ok());
  EXPECT_TRUE(options.get_preferred_allocation_available());
  EXPECT_FALSE(options.pre_start_required());
  EXPECT_TRUE(kubelet.pre_start({"vfio0"}).ok());
  // The kubelet counts the registration before the plugin hears the answer.
  EXPECT_TRUE(eventually([&] { return plugin.loop().registered(); }));
}

TEST(KubeletProtocolTest, HealthChangesReachListAndWatchBothWays) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v6e:4x4:4"));
  ASSERT_TRUE(kubelet.wait_for_devices([](const DeviceList& d) { return d.size() == 4; }, kWait));
  plugin.state().set_healthy(2, false);
  ASSERT_TRUE(
      kubelet.wait_for_devices([](const DeviceList& d) { return fakes::health_of(d, "vfio2") == "Unhealthy"; }, kWait));
  EXPECT_EQ(kubelet.devices().size(), 4u);  // the full list, every time
  EXPECT_TRUE(fakes::health_of(kubelet.devices(), "vfio1") == "Healthy");
  v1beta1::ContainerAllocateResponse response;
  const auto refused = kubelet.allocate({"vfio2"}, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("vfio2"));
  plugin.state().set_healthy(2, true);
  ASSERT_TRUE(
      kubelet.wait_for_devices([](const DeviceList& d) { return fakes::health_of(d, "vfio2") == "Healthy"; }, kWait));
}

TEST(KubeletProtocolTest, SysfsHostHealthFlipsWithTheDeviceNode) {
  TempDir dir;
  const auto host = testing::write_fake_tpu_host(dir / "host", topology::Generation::kV5p, 4);
  auto scan = scan_sysfs_chips(host.sysfs_root).value();
  HostInventory inventory{parse_simulate_spec("v5p:2x2x1:4").value(), scan.chips, std::vector<bool>(4, true), {}};
  FakeKubelet kubelet(dir / "plugins");
  RunningPlugin plugin(dir / "plugins", std::move(inventory));
  HealthCheckSettings settings;
  settings.sysfs_root = host.sysfs_root;
  settings.dev_root = host.dev_root;
  HealthMonitor monitor(plugin.state(), settings, plugin.metrics());
  Ticker ticker(100ms, [&] { monitor.check_all(); });
  ASSERT_TRUE(kubelet.wait_for_devices([](const DeviceList& d) { return d.size() == 4; }, kWait));
  fs::rename(host.dev_root + "/vfio/1", host.dev_root + "/vfio/1.gone");
  ASSERT_TRUE(
      kubelet.wait_for_devices([](const DeviceList& d) { return fakes::health_of(d, "vfio1") == "Unhealthy"; }, kWait));
  fs::rename(host.dev_root + "/vfio/1.gone", host.dev_root + "/vfio/1");
  ASSERT_TRUE(
      kubelet.wait_for_devices([](const DeviceList& d) { return fakes::health_of(d, "vfio1") == "Healthy"; }, kWait));
}

TEST(KubeletProtocolTest, ReRegistersAfterKubeletRestart) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v6e:4x4:4"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  for (int restart = 1; restart <= 3; ++restart) {
    kubelet.restart();
    ASSERT_TRUE(kubelet.wait_for_registrations(1 + restart, kWait)) << "restart " << restart;
    ASSERT_TRUE(kubelet.wait_for_devices([](const DeviceList& d) { return d.size() == 4; }, kWait));
  }
  v1beta1::ContainerAllocateResponse response;
  EXPECT_TRUE(kubelet.allocate({"vfio0", "vfio1", "vfio2", "vfio3"}, &response).ok());
  EXPECT_TRUE(fs::exists(dir / "tpu-device-plugin.sock"));
}

TEST(KubeletProtocolTest, WaitsForAKubeletThatIsNotThereYet) {
  TempDir dir;
  RunningPlugin plugin(dir.path(), simulated_inventory("v6e:4x4:4"));
  std::this_thread::sleep_for(300ms);  // a few failed attempts
  EXPECT_FALSE(plugin.loop().registered());
  FakeKubelet kubelet(dir.path());
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  kubelet.stop();  // kubelet down for a while, then back
  std::this_thread::sleep_for(300ms);
  kubelet.restart();
  ASSERT_TRUE(kubelet.wait_for_registrations(2, kWait));
}

TEST(KubeletProtocolTest, ReRegistersWhenOnlyKubeletSockIsCreated) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v6e:4x4:4"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  const auto inode = inode_of(dir / "tpu-device-plugin.sock");
  kubelet.stop();
  kubelet.start();  // our socket untouched: only inotify on kubelet.sock tells the plugin
  ASSERT_TRUE(kubelet.wait_for_registrations(2, kWait));
  EXPECT_EQ(inode_of(dir / "tpu-device-plugin.sock"), inode);  // served on, not re-created
}

TEST(KubeletProtocolTest, ReServesWhenOnlyOurSocketVanishes) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v6e:4x4:4"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  fs::remove(dir / "tpu-device-plugin.sock");
  ASSERT_TRUE(kubelet.wait_for_registrations(2, kWait));
  v1beta1::ContainerAllocateResponse response;
  EXPECT_TRUE(kubelet.allocate({"vfio1"}, &response).ok());
}

TEST(KubeletProtocolTest, SurvivesThePluginDirectoryBeingReplaced) {
  TempDir dir;
  const std::string plugins = dir / "plugins";
  auto kubelet = std::make_unique<FakeKubelet>(plugins);
  RunningPlugin plugin(plugins, simulated_inventory("v6e:4x4:4"));
  ASSERT_TRUE(kubelet->wait_for_registrations(1, kWait));
  kubelet.reset();
  fs::remove_all(plugins);
  std::this_thread::sleep_for(300ms);  // the plugin fails to serve in a missing directory, and retries
  kubelet = std::make_unique<FakeKubelet>(plugins);
  ASSERT_TRUE(kubelet->wait_for_registrations(1, kWait));
  ASSERT_TRUE(kubelet->wait_for_devices([](const DeviceList& d) { return d.size() == 4; }, kWait));
}

TEST(KubeletProtocolTest, StopRemovesOurSocket) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  {
    RunningPlugin plugin(dir.path(), simulated_inventory("v6e:4x4:4"));
    ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
    EXPECT_TRUE(fs::exists(dir / "tpu-device-plugin.sock"));
  }
  EXPECT_FALSE(fs::exists(dir / "tpu-device-plugin.sock"));
}

TEST(KubeletProtocolTest, AllocateAndPreferredForEveryGenerationAndHostSize) {
  for (const std::string spec :
       {"v4:2x2x2:4", "v5e:2x4:8", "v5e:2x2:4", "v5p:2x2x1:4", "v6e:4x4:4", "v6e:1x1:1", "tpu7x:2x2x1:4"}) {
    SCOPED_TRACE(spec);
    TempDir dir;
    FakeKubelet kubelet(dir.path());
    const auto inventory = simulated_inventory(spec);
    RunningPlugin plugin(dir.path(), inventory);
    ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
    const auto ids = ids_of(inventory);
    Ids preferred;
    ASSERT_TRUE(kubelet.preferred_allocation(ids, {}, static_cast<int>(ids.size()), &preferred).ok());
    EXPECT_EQ(preferred, ids);
    v1beta1::ContainerAllocateResponse response;
    ASSERT_TRUE(kubelet.allocate(ids, &response).ok());
    std::vector<topology::AllocatedChip> all;
    for (const auto& chip : inventory.chips) all.push_back({chip.index, chip.numa_node});
    const auto expected = topology::container_environment(inventory.slice, all).value();
    const std::map<std::string, std::string> envs(response.envs().begin(), response.envs().end());
    EXPECT_EQ(envs, expected);
    ASSERT_EQ(response.mounts_size(), 1);
    EXPECT_EQ(response.mounts(0).host_path(), "/tmp/tpu_logs");
    for (const auto& device : response.devices()) EXPECT_EQ(device.permissions(), "mrw");
  }
}

TEST(KubeletProtocolTest, SubHostAllocationsOnAnEightChipHost) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v6e:2x4:8"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  const Ids all = {"vfio0", "vfio1", "vfio2", "vfio3", "vfio4", "vfio5", "vfio6", "vfio7"};
  for (int size : {1, 2, 4}) {
    Ids chosen;
    ASSERT_TRUE(kubelet.preferred_allocation(all, {"vfio6"}, size, &chosen).ok());
    ASSERT_EQ(chosen.size(), static_cast<size_t>(size));
    v1beta1::ContainerAllocateResponse response;
    ASSERT_TRUE(kubelet.allocate(chosen, &response).ok());
    EXPECT_EQ(response.envs().at("TPU_PROCESS_BOUNDS"), "1,1,1");
    EXPECT_TRUE(response.envs().contains("TPU_VISIBLE_CHIPS"));
  }
}

TEST(KubeletProtocolTest, BadRequestsAreGrpcErrorsNamingTheDevice) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v5e:2x4:8"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  v1beta1::ContainerAllocateResponse response;
  auto status = kubelet.allocate({"vfio0", "nope"}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("'nope'"));
  status = kubelet.allocate({"vfio0", "vfio0"}, &response);
  EXPECT_THAT(status.error_message(), HasSubstr("'vfio0' is listed twice"));
  status = kubelet.allocate({"vfio0", "vfio1", "vfio2"}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  Ids chosen;
  status = kubelet.preferred_allocation({"vfio0"}, {"vfio5"}, 1, &chosen);
  EXPECT_THAT(status.error_message(), HasSubstr("'vfio5'"));

  // Two containers in one request, the second bad: the whole call fails and nothing is returned.
  v1beta1::AllocateRequest request;
  request.add_container_requests()->add_devices_ids("vfio0");
  request.add_container_requests()->add_devices_ids("vfio99");
  v1beta1::AllocateResponse whole;
  grpc::ClientContext context;
  status = kubelet.plugin()->Allocate(&context, request, &whole);
  EXPECT_THAT(status.error_message(), HasSubstr("'vfio99'"));
  EXPECT_EQ(whole.container_responses_size(), 0);
  EXPECT_EQ(plugin.metrics().rpc_errors.labels({"Allocate"}).value(), 4);
}

TEST(KubeletProtocolTest, OnlyLibtpuShapesAreOfferedOrAllocated) {
  TempDir dir;
  FakeKubelet kubelet(dir.path());
  RunningPlugin plugin(dir.path(), simulated_inventory("v6e:2x4:8"));
  ASSERT_TRUE(kubelet.wait_for_registrations(1, kWait));
  v1beta1::ContainerAllocateResponse response;
  auto status = kubelet.allocate({"vfio0", "vfio7"}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("[vfio0, vfio7]"));
  EXPECT_THAT(status.error_message(), HasSubstr("not a 1x2 block"));
  status = kubelet.allocate({"vfio0", "vfio1", "vfio6", "vfio7"}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("not a 2x2 block"));

  const Ids all = ids_of(simulated_inventory("v6e:2x4:8"));
  Ids chosen;
  status = kubelet.preferred_allocation(all, {}, 3, &chosen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("not 3"));
  EXPECT_TRUE(chosen.empty());

  // One request, two containers, one chip: refused whole.
  v1beta1::AllocateRequest request;
  for (const Ids& ids : {Ids{"vfio0", "vfio1"}, Ids{"vfio1"}}) {
    auto* container = request.add_container_requests();
    for (const auto& id : ids) container->add_devices_ids(id);
  }
  v1beta1::AllocateResponse whole;
  grpc::ClientContext context;
  status = kubelet.plugin()->Allocate(&context, request, &whole);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("'vfio1' is requested by containers 0 and 1"));
  EXPECT_EQ(whole.container_responses_size(), 0);
}

TEST(DeviceStateTest, WakeWaitersEndsAWaitAtOnce) {
  // A stream still waiting out its poll delayed every server restart (re-registration took 100 ms).
  DeviceState state(simulated_inventory("v6e:4x4:4"));
  std::atomic<bool> abandon{false};
  const auto start = std::chrono::steady_clock::now();
  std::thread waiter([&] { state.wait_for_change(state.version(), start + 60s, abandon); });
  abandon = true;
  state.wake_waiters();
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST(PodResourcesTest, CountsOnlyTpuDevices) {
  TempDir dir;
  EXPECT_FALSE(count_allocated_chips(dir / "kubelet.sock", 2s));
  fakes::FakePodResources pod_resources(dir / "kubelet.sock");
  EXPECT_EQ(count_allocated_chips(dir / "kubelet.sock", 5s), 0);
  pod_resources.set_assignments({{"train-0", "main", "google.com/tpu", {"vfio0", "vfio1"}},
                                 {"serve-0", "main", "google.com/tpu", {"vfio4"}},
                                 {"gpu-0", "main", "nvidia.com/gpu", {"GPU-1"}}});
  EXPECT_EQ(count_allocated_chips(dir / "kubelet.sock", 5s), 3);
}

}  // namespace
}  // namespace tpustack::deviceplugin
