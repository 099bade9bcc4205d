#pragma once

#include <atomic>

#include "deviceplugin/server/device_state.h"
#include "deviceplugin/server/plugin_metrics.h"
#include "proto/deviceplugin/v1beta1/api.grpc.pb.h"

namespace tpustack::deviceplugin {

inline constexpr const char* kResourceName = "google.com/tpu";

// The v1beta1.DevicePlugin service the kubelet calls on our socket. Handlers only read a snapshot of
// DeviceState: no I/O, no waiting on health checks.
class DevicePluginService final : public v1beta1::DevicePlugin::Service {
 public:
  DevicePluginService(const DeviceState& state, PluginMetrics& metrics) : state_(state), metrics_(metrics) {}

  // Ends every ListAndWatch stream so the gRPC server can shut down.
  void end_streams() {
    ending_ = true;
    state_.wake_waiters();
  }

  grpc::Status GetDevicePluginOptions(grpc::ServerContext* context, const v1beta1::Empty* request,
                                      v1beta1::DevicePluginOptions* response) override;
  grpc::Status ListAndWatch(grpc::ServerContext* context, const v1beta1::Empty* request,
                            grpc::ServerWriter<v1beta1::ListAndWatchResponse>* writer) override;
  grpc::Status GetPreferredAllocation(grpc::ServerContext* context, const v1beta1::PreferredAllocationRequest* request,
                                      v1beta1::PreferredAllocationResponse* response) override;
  grpc::Status Allocate(grpc::ServerContext* context, const v1beta1::AllocateRequest* request,
                        v1beta1::AllocateResponse* response) override;
  grpc::Status PreStartContainer(grpc::ServerContext* context, const v1beta1::PreStartContainerRequest* request,
                                 v1beta1::PreStartContainerResponse* response) override;

 private:
  const DeviceState& state_;
  PluginMetrics& metrics_;
  std::atomic<bool> ending_{false};
};

// The ListAndWatch message for one inventory: every chip, its health and its NUMA node.
v1beta1::ListAndWatchResponse device_list(const HostInventory& inventory);

}  // namespace tpustack::deviceplugin
