#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace tpustack::deviceplugin {

// How many google.com/tpu devices the kubelet has assigned to containers, from its PodResources
// API (v1 List) on `socket`. nullopt when the socket is absent or does not answer within `timeout`.
std::optional<int> count_allocated_chips(const std::string& socket, std::chrono::milliseconds timeout);

}  // namespace tpustack::deviceplugin
