#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "proto/deviceplugin/v1beta1/api.grpc.pb.h"

namespace tpustack::fakes {

// What a device plugin sent in Register.
struct PluginRegistration {
  std::string version;
  std::string endpoint;
  std::string resource_name;
  bool get_preferred_allocation_available = false;
  bool pre_start_required = false;
};

// A device as the kubelet last heard of it on ListAndWatch.
struct AdvertisedDevice {
  std::string id;
  std::string health;
  std::vector<long long> numa_nodes;
};
using DeviceList = std::vector<AdvertisedDevice>;

// "Healthy", "Unhealthy", or "" when `id` is not in the list.
std::string health_of(const DeviceList& devices, const std::string& id);

// The kubelet's side of the device-plugin protocol over real unix sockets: it serves
// v1beta1.Registration on <plugin_dir>/kubelet.sock and, on Register, does what the kubelet does:
// dials the plugin's endpoint with authority "localhost", calls GetDevicePluginOptions, answers,
// and reads ListAndWatch on its own thread. Tests and the end-to-end run use one per simulated node.
class FakeKubelet {
 public:
  explicit FakeKubelet(std::string plugin_dir);
  ~FakeKubelet();
  FakeKubelet(const FakeKubelet&) = delete;
  FakeKubelet& operator=(const FakeKubelet&) = delete;

  const std::string& plugin_dir() const { return plugin_dir_; }
  std::string socket_path() const { return plugin_dir_ + "/kubelet.sock"; }

  // Registrations accepted so far; wait_for_registrations(n) waits until there have been n.
  int registrations() const;
  bool wait_for_registrations(int n, std::chrono::milliseconds timeout) const;
  PluginRegistration last_registration() const;

  // The latest ListAndWatch list (empty before the first) and how many lists have arrived.
  DeviceList devices() const;
  int device_updates() const;
  bool wait_for_devices(const std::function<bool(const DeviceList&)>& predicate,
                        std::chrono::milliseconds timeout) const;

  // Calls on the registered plugin, one container per call as the kubelet makes them. Not while
  // another thread runs stop() or restart(), which replace the connection.
  grpc::Status allocate(const std::vector<std::string>& ids, v1beta1::ContainerAllocateResponse* out);
  grpc::Status preferred_allocation(const std::vector<std::string>& available,
                                    const std::vector<std::string>& must_include, int size,
                                    std::vector<std::string>* out);
  grpc::Status options(v1beta1::DevicePluginOptions* out);
  grpc::Status pre_start(const std::vector<std::string>& ids);
  // The connected plugin's stub, for raw requests (several containers, malformed input).
  v1beta1::DevicePlugin::Stub* plugin();

  // Like a kubelet going away: stop serving kubelet.sock and drop the plugin connection.
  void stop();
  // After stop(): serve kubelet.sock again, leaving the plugin's socket alone.
  void start();
  // Like a kubelet restart: stop, delete everything in the plugin directory but subdirectories (as
  // the kubelet's CleanupPluginDirectory does, which spares only its own checkpoint), then serve a
  // fresh kubelet.sock.
  void restart();

 private:
  class RegistrationService;
  void connect_plugin(const PluginRegistration& registration);
  void drop_plugin();

  std::string plugin_dir_;
  std::unique_ptr<RegistrationService> service_;
  std::unique_ptr<grpc::Server> server_;

  std::mutex connect_mu_;  // one registration at a time; the later one replaces the earlier
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  int registrations_ = 0;
  PluginRegistration last_registration_;
  DeviceList devices_;
  int device_updates_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1beta1::DevicePlugin::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> stream_context_;
  std::thread stream_reader_;
};

}  // namespace tpustack::fakes
