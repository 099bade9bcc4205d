#pragma once

#include <string>

namespace tpustack::testing {

// A new empty directory under the system's temporary directory, named PREFIX-XXXXXX (short, so that Unix
// sockets fit under it). Throws std::runtime_error when it cannot be made. The caller removes it.
std::string make_temp_dir(const std::string& prefix);

}  // namespace tpustack::testing
