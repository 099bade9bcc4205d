#pragma once

#include <chrono>
#include <string>

#include <grpcpp/grpcpp.h>

namespace tpustack::deviceplugin {

// Calls v1beta1.Registration/Register on the kubelet socket for google.com/tpu with `endpoint` (our
// socket's file name, which the kubelet resolves inside its plugin directory), advertising
// GetPreferredAllocation. The kubelet dials us back before it answers, so our server must already
// be serving.
grpc::Status register_with_kubelet(const std::string& kubelet_socket, const std::string& endpoint,
                                   std::chrono::milliseconds timeout);

}  // namespace tpustack::deviceplugin
