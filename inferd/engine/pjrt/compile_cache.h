#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_client.h"

namespace tpustack::inferd::engine::pjrt {

// A directory of serialized executables, so that a restart loads what an earlier run compiled instead of compiling
// again (a first compile on TPU takes 30-120 s per bucket). Each file is named after a SHA-256 of all the executable
// depends on: the model, the program, inferd's compile options and the plugin build (library, PJRT API version,
// platform name and version). Files are written whole or not at all (a temporary file renamed into place) and carry
// a checksum of their bytes, so a damaged one is never handed to the plugin. Several threads may call it at once,
// and several processes may share the directory.
class CompileCache {
 public:
  // No directory: every call compiles. The directory is made when the first executable is stored in it.
  explicit CompileCache(std::optional<std::filesystem::path> directory);
  CompileCache(const CompileCache&) = delete;
  CompileCache& operator=(const CompileCache&) = delete;

  // `program` compiled for `client`: loaded from the directory when a run before stored it, else compiled and
  // stored. A stored file that does not load (damaged, or from another plugin build that the key missed) is logged,
  // compiled again and replaced; when executables cannot be stored (the directory cannot be written, the plugin
  // does not serialize) it logs that once and goes on compiling. `model_digest` names the model's weights and
  // configuration (the registry's digest). Fails only when compiling fails.
  Result<PjrtExecutable> get_or_compile(const PjrtClient& client, std::string_view program,
                                        std::string_view model_digest);

  // Calls answered from the directory, and calls that compiled (every call when there is no directory).
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  // Time spent compiling, all calls together.
  double compile_seconds() const { return compile_seconds_; }

 private:
  Result<PjrtExecutable> compile(const PjrtClient& client, std::string_view program);
  void store(const PjrtExecutable& executable, const std::filesystem::path& file);

  std::optional<std::filesystem::path> directory_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<double> compile_seconds_{0.0};
  std::atomic<bool> store_failure_logged_{false};
};

}  // namespace tpustack::inferd::engine::pjrt
