#include "inferd/engine/pjrt/pjrt_runtime.h"

#include <cstdlib>

#include "inferd/engine/pjrt/pjrt_plugin.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

// libtpu and XLA log through Abseil and TSL straight to stderr, a dozen lines per start, none in our format: only
// their errors pass, unless the operator set these variables (then theirs hold).
void quiet_plugin_logging() {
  for (const char* name : {"TF_CPP_MIN_LOG_LEVEL", "TPU_MIN_LOG_LEVEL", "TPU_STDERR_LOG_LEVEL"}) {
    setenv(name, "2", /*overwrite=*/0);
  }
}

}  // namespace

Result<std::shared_ptr<PjrtRuntime>> PjrtRuntime::open(const std::filesystem::path& library,
                                                       std::optional<std::filesystem::path> compile_cache) {
  quiet_plugin_logging();
  auto plugin = PjrtPlugin::load(library);
  if (!plugin) return plugin.error();
  auto client = plugin->create_client();
  if (!client) return client.error();
  return std::shared_ptr<PjrtRuntime>(new PjrtRuntime(library, std::move(*client), std::move(compile_cache)));
}

PjrtRuntime::PjrtRuntime(std::filesystem::path library, PjrtClient client,
                         std::optional<std::filesystem::path> compile_cache)
    : library_(std::move(library)),
      client_(std::move(client)),
      cache_directory_(compile_cache),
      cache_(std::move(compile_cache)),
      runs_(std::make_unique<std::atomic<uint64_t>[]>(client_.addressable_devices().size())) {}

Result<PjrtExecutable> PjrtRuntime::compile(std::string_view program, std::string_view model_digest) {
  return cache_.get_or_compile(client_, program, model_digest);
}

const std::string& PjrtRuntime::device_kind() const {
  static const std::string none;
  return devices().empty() ? none : devices().front().kind;
}

std::vector<uint64_t> PjrtRuntime::runs_per_device() const {
  std::vector<uint64_t> runs(devices().size());
  for (size_t i = 0; i < runs.size(); ++i) runs[i] = runs_[i].load(std::memory_order_relaxed);
  return runs;
}

}  // namespace tpustack::inferd::engine::pjrt
