#include "tests/e2e/node_agent.h"

#include <signal.h>

#include <filesystem>
#include <stdexcept>

#include "tests/support/free_port.h"

namespace tpustack::e2e {

NodeAgent::NodeAgent(std::string node, std::string simulate, std::string binary_dir, std::string dir,
                     std::string plugin_config)
    : node_(std::move(node)),
      simulate_(std::move(simulate)),
      binary_dir_(std::move(binary_dir)),
      dir_(std::move(dir)),
      plugin_config_(std::move(plugin_config)) {
  std::filesystem::create_directories(dir_ + "/plugins");
  kubelet_ = std::make_unique<fakes::FakeKubelet>(dir_ + "/plugins");
  start_plugin();
}

void NodeAgent::start_plugin() {
  registrations_before_start_ = kubelet_->registrations();
  const std::string metrics = "127.0.0.1:" + std::to_string(testing::free_port());
  plugin_ = std::make_unique<testing::ChildProcess>(
      std::vector<std::string>{binary_dir_ + "/deviceplugin/tpu-device-plugin", "--config", plugin_config_,
                               "--simulate", simulate_, "--plugin-dir", dir_ + "/plugins", "--lock-file",
                               dir_ + "/tpu-device-plugin.lock", "--metrics-addr", metrics},
      std::vector<std::string>{"NODE_NAME=" + node_},
      dir_ + "/device-plugin-" + std::to_string(++plugin_starts_) + ".log");
}

void NodeAgent::kill_plugin() {
  plugin_->signal(SIGKILL);
  plugin_->wait(std::chrono::seconds(10));
}

int NodeAgent::healthy_chips() {
  if (!plugin_running() || kubelet_->registrations() <= registrations_before_start_) return 0;
  int healthy = 0;
  for (const fakes::AdvertisedDevice& device : kubelet_->devices()) healthy += device.health == "Healthy";
  return healthy;
}

std::map<std::string, std::string> NodeAgent::allocate(int chips) {
  std::vector<std::string> available;
  for (const fakes::AdvertisedDevice& device : kubelet_->devices()) {
    if (device.health == "Healthy") available.push_back(device.id);
  }
  std::vector<std::string> preferred;
  grpc::Status status = kubelet_->preferred_allocation(available, {}, chips, &preferred);
  if (!status.ok()) throw std::runtime_error(node_ + ": GetPreferredAllocation: " + status.error_message());
  v1beta1::ContainerAllocateResponse response;
  status = kubelet_->allocate(preferred, &response);
  if (!status.ok()) throw std::runtime_error(node_ + ": Allocate: " + status.error_message());
  return {response.envs().begin(), response.envs().end()};
}

}  // namespace tpustack::e2e
