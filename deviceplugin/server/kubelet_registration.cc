#include "deviceplugin/server/kubelet_registration.h"

#include "deviceplugin/server/device_plugin_service.h"

namespace tpustack::deviceplugin {

grpc::Status register_with_kubelet(const std::string& kubelet_socket, const std::string& endpoint,
                                   std::chrono::milliseconds timeout) {
  const auto channel = grpc::CreateChannel("unix:" + kubelet_socket, grpc::InsecureChannelCredentials());
  const auto stub = v1beta1::Registration::NewStub(channel);
  v1beta1::RegisterRequest request;
  request.set_version("v1beta1");
  request.set_endpoint(endpoint);
  request.set_resource_name(kResourceName);
  request.mutable_options()->set_pre_start_required(false);
  request.mutable_options()->set_get_preferred_allocation_available(true);
  v1beta1::Empty reply;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  return stub->Register(&context, request, &reply);
}

}  // namespace tpustack::deviceplugin
