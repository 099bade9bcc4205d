#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_buffer.h"
#include "inferd/engine/pjrt/pjrt_executable.h"

struct PJRT_Api;
struct PJRT_Client;

namespace tpustack::inferd::engine::pjrt {

struct PjrtDevice {
  int id = 0;        // unique among the plugin's devices
  std::string kind;  // the vendor's name for it: "TPU v5 lite", "NVIDIA H100 80GB HBM3"
};

struct PjrtApiVersion {
  int major = 0;
  int minor = 0;
};

class AddressableDevices;

// A PJRT client: the plugin's runtime on this process's devices. Destroying it destroys the PJRT client; the
// buffers and executables it made must be gone by then. Every call waits for the work it starts.
class PjrtClient {
 public:
  PjrtClient(PjrtClient&& other) noexcept = default;
  PjrtClient& operator=(PjrtClient&& other) noexcept = default;
  PjrtClient(const PjrtClient&) = delete;
  PjrtClient& operator=(const PjrtClient&) = delete;
  ~PjrtClient() = default;

  // "tpu", "cuda", "cpu".
  const std::string& platform_name() const { return platform_name_; }
  // The plugin's own version text (libtpu's build, the CUDA version); empty when the plugin gives none.
  const std::string& platform_version() const { return platform_version_; }
  // The library the client's plugin was loaded from, and the PJRT API version it was built with.
  const std::filesystem::path& plugin_library() const { return plugin_library_; }
  PjrtApiVersion api_version() const { return api_version_; }
  // The devices this process can run on, in the plugin's order, as listed when the client was made.
  const std::vector<PjrtDevice>& addressable_devices() const;

  // Copies a row-major float32 array of shape `dims` into the memory of the addressable device `device_id`.
  Result<PjrtBuffer> buffer_from_host(std::span<const float> values, const std::vector<int64_t>& dims,
                                      int device_id) const;
  // The same for bfloat16 values, given as their bits.
  Result<PjrtBuffer> buffer_from_host_bf16(std::span<const uint16_t> values, const std::vector<int64_t>& dims,
                                           int device_id) const;
  // The same for int32 values (token ids).
  Result<PjrtBuffer> buffer_from_host_i32(std::span<const int32_t> values, const std::vector<int64_t>& dims,
                                          int device_id) const;

  // Compiles a StableHLO program (MLIR text or bytecode, a module whose entry is func.func @main) for one device;
  // the executable runs on any addressable device.
  Result<PjrtExecutable> compile(std::string_view stablehlo_mlir) const;
  // Loads what PjrtExecutable::serialize gave, without compiling. The plugin refuses bytes that another platform or
  // plugin build made, or that are damaged.
  Result<PjrtExecutable> load_serialized(std::string_view bytes) const;

 private:
  friend class PjrtPlugin;

  struct ClientDestroyer {
    const PJRT_Api* api;
    void operator()(PJRT_Client* client) const;
  };

  // Owns `client` from here on.
  PjrtClient(const PJRT_Api* api, PJRT_Client* client) : api_(api), client_(client, ClientDestroyer{api}) {}

  Result<PjrtBuffer> buffer_from_host(PjrtElementType type, const void* data, size_t count,
                                      const std::vector<int64_t>& dims, int device_id) const;
  // Owns `executable`, which the plugin just made for this client.
  Result<PjrtExecutable> own_executable(PJRT_LoadedExecutable* executable) const;

  const PJRT_Api* api_;
  std::unique_ptr<PJRT_Client, ClientDestroyer> client_;
  std::shared_ptr<const AddressableDevices> devices_;
  std::string platform_name_;
  std::string platform_version_;
  std::filesystem::path plugin_library_;
  PjrtApiVersion api_version_;
};

}  // namespace tpustack::inferd::engine::pjrt
