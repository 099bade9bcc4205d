#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/result/result.h"
#include "common/retry/backoff.h"
#include "deviceplugin/server/device_plugin_service.h"
#include "deviceplugin/server/device_state.h"
#include "deviceplugin/server/plugin_dir_watch.h"
#include "deviceplugin/server/plugin_metrics.h"

namespace tpustack::deviceplugin {

struct RegistrationSettings {
  std::string plugin_dir = "/var/lib/kubelet/device-plugins";
  std::string kubelet_socket;  // empty: <plugin_dir>/kubelet.sock
  std::string socket_name = "tpu-device-plugin.sock";
  std::chrono::milliseconds register_timeout{10000};
  // Between registration attempts while no kubelet answers; a new kubelet.sock starts it over.
  retry::Backoff::Policy register_retry{std::chrono::milliseconds(100), std::chrono::milliseconds(5000), 2.0, 0.5};
};

// The plugin's life with the kubelet: serve DevicePlugin on our socket, then Register; re-serve and
// re-register whenever a new kubelet appears (kubelet.sock created) or our socket vanishes; retry
// with backoff while no kubelet answers. run() returns after stop(), with our socket removed.
class RegistrationLoop {
 public:
  // An Error for a socket path longer than a unix socket allows, or when the plugin directory cannot be watched.
  static Result<std::unique_ptr<RegistrationLoop>> open(RegistrationSettings settings, const DeviceState& state,
                                                        PluginMetrics& metrics);
  ~RegistrationLoop();

  void run();
  // Thread-safe; also safe to call while run() is inside a blocking wait.
  void stop();

  bool serving() const { return serving_; }
  bool registered() const { return registered_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& kubelet_socket() const { return settings_.kubelet_socket; }

 private:
  RegistrationLoop(RegistrationSettings settings, const DeviceState& state, PluginMetrics& metrics,
                   std::unique_ptr<PluginDirWatch> watch);
  Result<void> start_server();
  void stop_server();

  RegistrationSettings settings_;
  const DeviceState& state_;
  PluginMetrics& metrics_;
  std::string socket_path_;
  std::unique_ptr<PluginDirWatch> watch_;
  std::unique_ptr<DevicePluginService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> serving_{false};
  std::atomic<bool> registered_{false};
};

}  // namespace tpustack::deviceplugin
