#pragma once

#include <chrono>
#include <map>
#include <string>

namespace tpustack::deviceplugin {

struct CommandOutcome {
  bool passed = false;
  std::string description;  // "exit status 3", "timed out after 5s", "cannot start: ..."
};

// Runs `command` with /bin/sh -c in its own process group with `environment` added to ours, and
// kills the group if it outlives `timeout`. Exit status 0 passes.
CommandOutcome run_check_command(const std::string& command, const std::map<std::string, std::string>& environment,
                                 std::chrono::milliseconds timeout);

}  // namespace tpustack::deviceplugin
