#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/compile_cache.h"
#include "inferd/engine/pjrt/pjrt_client.h"

namespace tpustack::inferd::engine::pjrt {

// The PJRT plugin this process computes on, shared by every model loaded on it: the client, its addressable devices
// (data-parallel replicas), the compile cache, and the counts /info and the metrics report. Models hold it, so the
// client outlives their buffers and executables.
class PjrtRuntime {
 public:
  // Loads the plugin (with its own logging turned down to errors unless the environment says otherwise) and creates
  // the client; executables are cached in `compile_cache` (none: compiled at every start).
  static Result<std::shared_ptr<PjrtRuntime>> open(const std::filesystem::path& library,
                                                   std::optional<std::filesystem::path> compile_cache);

  const std::filesystem::path& library() const { return library_; }
  const PjrtClient& client() const { return client_; }
  const std::vector<PjrtDevice>& devices() const { return client_.addressable_devices(); }
  const CompileCache& compile_cache() const { return cache_; }
  const std::optional<std::filesystem::path>& compile_cache_directory() const { return cache_directory_; }
  // "TPU v5 lite": the first device's kind (a host's devices are alike).
  const std::string& device_kind() const;

  // The executable of a program of the model whose weights have `model_digest`: from the compile cache when it has
  // it, else compiled (and kept there).
  Result<PjrtExecutable> compile(std::string_view program, std::string_view model_digest);

  // One execution ran on devices()[index].
  void count_run(size_t index) { runs_[index].fetch_add(1, std::memory_order_relaxed); }
  std::vector<uint64_t> runs_per_device() const;

 private:
  PjrtRuntime(std::filesystem::path library, PjrtClient client, std::optional<std::filesystem::path> compile_cache);

  std::filesystem::path library_;
  PjrtClient client_;
  std::optional<std::filesystem::path> cache_directory_;
  CompileCache cache_;
  std::unique_ptr<std::atomic<uint64_t>[]> runs_;
};

}  // namespace tpustack::inferd::engine::pjrt
