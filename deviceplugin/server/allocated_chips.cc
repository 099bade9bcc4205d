#include "deviceplugin/server/allocated_chips.h"

#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include "deviceplugin/server/device_plugin_service.h"
#include "proto/podresources/v1/api.grpc.pb.h"

namespace tpustack::deviceplugin {

std::optional<int> count_allocated_chips(const std::string& socket, std::chrono::milliseconds timeout) {
  if (::access(socket.c_str(), F_OK) != 0) return std::nullopt;
  const auto stub =
      v1::PodResourcesLister::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  v1::ListPodResourcesRequest request;
  v1::ListPodResourcesResponse response;
  if (!stub->List(&context, request, &response).ok()) return std::nullopt;
  int count = 0;
  for (const auto& pod : response.pod_resources()) {
    for (const auto& container : pod.containers()) {
      for (const auto& devices : container.devices()) {
        if (devices.resource_name() == kResourceName) count += devices.device_ids_size();
      }
    }
  }
  return count;
}

}  // namespace tpustack::deviceplugin
