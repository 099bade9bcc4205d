#pragma once

#include "deviceplugin/cli/plugin_settings.h"

namespace tpustack::deviceplugin {

// The serving program: lock, discover (retrying until the chips match what the node declares),
// then health checks, metrics and the registration loop until SIGTERM or SIGINT. Returns the exit
// status: 0 after a signal, with our socket removed.
int serve(const PluginSettings& settings);

}  // namespace tpustack::deviceplugin
