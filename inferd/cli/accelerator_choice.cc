#include "inferd/cli/accelerator_choice.h"

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "inferd/engine/pjrt/plugin_location.h"

namespace tpustack::inferd::cli {

namespace {

// Where compiled programs are kept: the flag, else the user's cache directory; nothing for "none" or without HOME.
std::optional<std::filesystem::path> compile_cache_directory(const std::string& flag) {
  if (flag == "none") return std::nullopt;
  if (!flag.empty()) return flag;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "inferd/pjrt";
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".cache/inferd/pjrt";
  }
  return std::nullopt;
}

// Finds and loads the PJRT plugin, creating `runtime`; what it found, or why not.
Result<server::PluginProbe> probe_pjrt_plugin(const AcceleratorFlags& flags,
                                              std::shared_ptr<engine::pjrt::PjrtRuntime>& runtime) {
  const auto library = engine::pjrt::find_pjrt_plugin(
      flags.pjrt_plugin.empty() ? std::nullopt : std::optional(flags.pjrt_plugin),
      [](const char* name) { return std::getenv(name); },
      [](const std::filesystem::path& path) {
        std::error_code ec;
        return std::filesystem::is_regular_file(path, ec);
      });
  if (!library) {
    return Error{
        "no PJRT plugin found (--pjrt-plugin, PJRT_PLUGIN_LIBRARY_PATH, TPU_LIBRARY_PATH, the libtpu or jax CUDA "
        "plugin package)"};
  }
  auto opened = engine::pjrt::PjrtRuntime::open(*library, compile_cache_directory(flags.compile_cache_dir));
  if (!opened) return opened.error();
  runtime = std::move(opened).value();
  return server::PluginProbe{library->string(), runtime->client().platform_name(), runtime->devices().size(),
                             runtime->device_kind()};
}

}  // namespace

void add_accelerator_flags(CLI::App& app, AcceleratorFlags& flags) {
  app.add_option("--backend", flags.backend,
                 "auto (a PJRT plugin's devices when one loads and shows a device, else cpu), cpu, pjrt, or "
                 "xla:tpu, xla:cuda, xla:cpu (pjrt on that platform)")
      ->capture_default_str();
  app.add_option("--pjrt-plugin", flags.pjrt_plugin,
                 "the PJRT plugin library (libtpu.so, xla_cuda_plugin.so); else PJRT_PLUGIN_LIBRARY_PATH, "
                 "TPU_LIBRARY_PATH, then where the libtpu and jax CUDA plugin packages put it");
  app.add_option("--compile-cache-dir", flags.compile_cache_dir,
                 "directory of the PJRT backend's compiled programs, reused by later starts (default: "
                 "$XDG_CACHE_HOME/inferd/pjrt, else ~/.cache/inferd/pjrt; none: compile at every start)");
}

Result<AcceleratorChoice> choose_accelerator(const AcceleratorFlags& flags,
                                             const server::DeviceEnvironment& environment) {
  auto request = server::parse_backend_request(flags.backend);
  if (!request) return request.error();
  AcceleratorChoice chosen;
  Result<server::PluginProbe> probe = Error{"--backend cpu"};
  if (request->kind != server::BackendRequest::Kind::cpu) probe = probe_pjrt_plugin(flags, chosen.pjrt);
  auto choice = server::choose_backend(*request, probe, environment);
  if (!choice) return choice.error();
  chosen.choice = std::move(choice).value();
  if (chosen.choice.backend != "pjrt") chosen.pjrt.reset();
  return chosen;
}

}  // namespace tpustack::inferd::cli
