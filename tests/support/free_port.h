#pragma once

namespace tpustack::testing {

// A TCP port on 127.0.0.1 that nobody listens on right now, outside the kernel's ephemeral range so that no
// client connection takes it before the server under test binds it.
int free_port();

}  // namespace tpustack::testing
