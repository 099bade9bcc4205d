#pragma once

#include <string>

namespace tpustack::inferd::engine::pjrt {

// The serialized xla.CompileOptionsProto inferd compiles every program with, which PJRT_Client_Compile requires of
// real plugins: one replica, one partition, no device chosen at compile time and a portable executable, so that one
// executable runs on whichever addressable device an execution names.
std::string single_device_compile_options();

}  // namespace tpustack::inferd::engine::pjrt
