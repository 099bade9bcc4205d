#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/result/result.h"

struct PJRT_Api;
struct PJRT_Client;

namespace tpustack::inferd::engine::pjrt {

struct PjrtApiVersion {
  int major = 0;
  int minor = 0;
};

struct PjrtDevice {
  int id = 0;        // unique among the plugin's devices
  std::string kind;  // the vendor's name for it: "TPU v5 lite", "NVIDIA H100 80GB HBM3"
};

// A PJRT client: the plugin's runtime on this process's devices. Destroying it destroys the PJRT client.
class PjrtClient {
 public:
  PjrtClient(PjrtClient&& other) noexcept;
  PjrtClient& operator=(PjrtClient&& other) noexcept;
  PjrtClient(const PjrtClient&) = delete;
  PjrtClient& operator=(const PjrtClient&) = delete;
  ~PjrtClient();

  // "tpu", "cuda", "cpu".
  const std::string& platform_name() const { return platform_name_; }
  // The devices this process can run on, in the plugin's order.
  Result<std::vector<PjrtDevice>> addressable_devices() const;

 private:
  friend class PjrtPlugin;
  PjrtClient(const PJRT_Api* api, PJRT_Client* client) : api_(api), client_(client) {}

  const PJRT_Api* api_;
  PJRT_Client* client_;
  std::string platform_name_;
};

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
