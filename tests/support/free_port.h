#pragma once

namespace tpustack::testing {

// A TCP port on 127.0.0.1 that nobody listens on right now.
int free_port();

}  // namespace tpustack::testing
