#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_runtime.h"
#include "inferd/server/backend_selection.h"

namespace tpustack::inferd::cli {

// --backend, --pjrt-plugin and --compile-cache-dir: what `inferd serve` and `inferd bench` compute on.
struct AcceleratorFlags {
  std::string backend = "auto";
  std::string pjrt_plugin;
  std::string compile_cache_dir;
};

void add_accelerator_flags(CLI::App& app, AcceleratorFlags& flags);

struct AcceleratorChoice {
  server::BackendChoice choice;
  std::shared_ptr<engine::pjrt::PjrtRuntime> pjrt;  // set when the choice is pjrt
};

// Loads the PJRT plugin unless --backend cpu (the flag, the environment, where packages put it) and decides
// (server::choose_backend); an Error when the flags ask for what cannot work here.
Result<AcceleratorChoice> choose_accelerator(const AcceleratorFlags& flags,
                                             const server::DeviceEnvironment& environment);

}  // namespace tpustack::inferd::cli
