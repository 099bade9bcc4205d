#include "deviceplugin/server/device_plugin_service.h"

#include <chrono>
#include <string>
#include <vector>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "deviceplugin/allocator/container_allocation.h"
#include "deviceplugin/allocator/preferred_allocation.h"

namespace tpustack::deviceplugin {
namespace {

using Clock = std::chrono::steady_clock;

// How often a waiting ListAndWatch stream looks at cancellation by the kubelet; health changes and
// our own shutdown wake it at once.
constexpr auto kStreamPoll = std::chrono::milliseconds(100);

grpc::Status refusal(const char* rpc, const Error& error, PluginMetrics& metrics) {
  metrics.rpc_errors.labels({rpc}).inc();
  spdlog::warn("{} refused: {}", rpc, error.message);
  const auto code = error.kind == ErrorKind::kFailedPrecondition ? grpc::StatusCode::FAILED_PRECONDITION
                                                                 : grpc::StatusCode::INVALID_ARGUMENT;
  return {code, error.message};
}

std::vector<std::string> strings_of(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

v1beta1::ListAndWatchResponse device_list(const HostInventory& inventory) {
  v1beta1::ListAndWatchResponse response;
  for (const auto& chip : inventory.chips) {
    auto* device = response.add_devices();
    device->set_id(chip.id);
    device->set_health(inventory.healthy[chip.index] ? "Healthy" : "Unhealthy");
    if (chip.numa_node >= 0) device->mutable_topology()->add_nodes()->set_id(chip.numa_node);
  }
  return response;
}

grpc::Status DevicePluginService::GetDevicePluginOptions(grpc::ServerContext*, const v1beta1::Empty*,
                                                         v1beta1::DevicePluginOptions* response) {
  response->set_pre_start_required(false);
  response->set_get_preferred_allocation_available(true);
  return grpc::Status::OK;
}

grpc::Status DevicePluginService::ListAndWatch(grpc::ServerContext* context, const v1beta1::Empty*,
                                               grpc::ServerWriter<v1beta1::ListAndWatchResponse>* writer) {
  std::uint64_t sent = 0;
  while (!ending_ && !context->IsCancelled()) {
    const std::uint64_t now = state_.version();
    if (now != sent) {
      const auto inventory = state_.snapshot();
      if (!writer->Write(device_list(*inventory))) {
        spdlog::info("ListAndWatch stream closed by the kubelet");
        return grpc::Status::OK;
      }
      sent = now;
    }
    state_.wait_for_change(sent, Clock::now() + kStreamPoll, ending_);
  }
  return grpc::Status::OK;
}

grpc::Status DevicePluginService::GetPreferredAllocation(grpc::ServerContext*,
                                                         const v1beta1::PreferredAllocationRequest* request,
                                                         v1beta1::PreferredAllocationResponse* response) {
  const auto start = Clock::now();
  const auto inventory = state_.snapshot();
  std::vector<PreferredRequest> containers;
  for (const auto& container : request->container_requests()) {
    containers.push_back({strings_of(container.available_deviceids()), strings_of(container.must_include_deviceids()),
                          container.allocation_size()});
  }
  const auto chosen = preferred_allocations(*inventory, containers);
  if (!chosen) return refusal("GetPreferredAllocation", chosen.error(), metrics_);
  for (const auto& ids : *chosen) {
    auto* out = response->add_container_responses();
    for (const auto& id : ids) out->add_deviceids(id);
  }
  metrics_.preferred_allocation_seconds.observe(seconds_since(start));
  return grpc::Status::OK;
}

grpc::Status DevicePluginService::Allocate(grpc::ServerContext*, const v1beta1::AllocateRequest* request,
                                           v1beta1::AllocateResponse* response) {
  const auto start = Clock::now();
  const auto inventory = state_.snapshot();
  std::vector<std::vector<std::string>> containers;
  for (const auto& container : request->container_requests()) containers.push_back(strings_of(container.devices_ids()));
  // Decide for every container before writing any response, so a refusal changes nothing.
  const auto allocations = allocate_request(*inventory, containers);
  if (!allocations) return refusal("Allocate", allocations.error(), metrics_);
  for (const auto& allocation : *allocations) {
    auto* out = response->add_container_responses();
    for (const auto& [name, value] : allocation.envs) (*out->mutable_envs())[name] = value;
    for (const auto& mount : allocation.mounts) {
      auto* m = out->add_mounts();
      m->set_container_path(mount.container_path);
      m->set_host_path(mount.host_path);
      m->set_read_only(mount.read_only);
    }
    for (const auto& device : allocation.devices) {
      auto* d = out->add_devices();
      d->set_container_path(device.container_path);
      d->set_host_path(device.host_path);
      d->set_permissions(device.permissions);
    }
  }
  metrics_.allocate_seconds.observe(seconds_since(start));
  for (const auto& container : request->container_requests()) {
    spdlog::info("Allocate {}", fmt::join(container.devices_ids(), ","));
  }
  return grpc::Status::OK;
}

grpc::Status DevicePluginService::PreStartContainer(grpc::ServerContext*, const v1beta1::PreStartContainerRequest*,
                                                    v1beta1::PreStartContainerResponse*) {
  return grpc::Status::OK;
}

}  // namespace tpustack::deviceplugin
