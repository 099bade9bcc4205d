#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace tpustack::inferd::cli {

// `inferd pull (--registry URL | --hf-endpoint URL | --from-dir DIR) --models a,b [--variant f32|f16|i8] --dest DIR`:
// puts each model in DEST/<model>/, verified. Adds the flags to `command`, inferd's `pull` subcommand; the returned
// function runs it once the command line is parsed and returns the exit code (so it can run as an init container).
std::function<int()> add_pull_command(CLI::App& command);

}  // namespace tpustack::inferd::cli
