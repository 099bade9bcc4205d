#pragma once

#include <filesystem>
#include <utility>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_client.h"

struct PJRT_Api;

namespace tpustack::inferd::engine::pjrt {

// A PJRT plugin library (libtpu.so, the jax CUDA plugin's xla_cuda_plugin.so) loaded into this process and checked
// against the API version inferd's declarations follow (pjrt_c_api.h). The library stays loaded until the process
// ends: plugins start threads and keep process-wide state that unloading would pull from under them, so clients
// may outlive the PjrtPlugin they came from. Loading the same library again gives the same plugin, initialised once.
class PjrtPlugin {
 public:
  // Fails, naming the library, when it does not load (the loader's reason), exports no GetPjrtApi, speaks another
  // major version or an older minor than inferd needs, or lacks a call inferd makes; or with the plugin's own error
  // when its initialisation fails.
  static Result<PjrtPlugin> load(const std::filesystem::path& library);

  const std::filesystem::path& library() const { return library_; }
  // The version the plugin was built with.
  PjrtApiVersion api_version() const;

  Result<PjrtClient> create_client() const;

 private:
  PjrtPlugin(std::filesystem::path library, const PJRT_Api* api) : library_(std::move(library)), api_(api) {}

  std::filesystem::path library_;
  const PJRT_Api* api_;
};

}  // namespace tpustack::inferd::engine::pjrt
