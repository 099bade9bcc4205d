#include "inferd/engine/pjrt/plugin_location.h"

#include <string_view>
#include <utility>
#include <vector>

namespace tpustack::inferd::engine::pjrt {

namespace {

std::optional<std::string> variable(const Environment& environment, const char* name) {
  const char* value = environment(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return value;
}

// Where pip puts packages: an active virtual environment, the user's, then the system's; in each, every Python
// from 3.10 to 3.14.
std::vector<std::filesystem::path> site_packages(const Environment& environment) {
  std::vector<std::pair<std::filesystem::path, std::string_view>> places;  // (prefix, packages folder)
  if (auto virtual_env = variable(environment, "VIRTUAL_ENV")) places.emplace_back(*virtual_env, "site-packages");
  if (auto home = variable(environment, "HOME")) places.emplace_back(*home + "/.local", "site-packages");
  places.emplace_back("/usr/local", "dist-packages");
  places.emplace_back("/usr/local", "site-packages");

  std::vector<std::filesystem::path> roots;
  for (const auto& [prefix, packages] : places) {
    for (int minor = 10; minor <= 14; ++minor) {
      roots.push_back(prefix / "lib" / ("python3." + std::to_string(minor)) / packages);
    }
  }
  roots.push_back("/usr/lib/python3/dist-packages");
  return roots;
}

std::vector<std::filesystem::path> candidates(const Environment& environment) {
  const auto roots = site_packages(environment);
  std::vector<std::filesystem::path> paths;
  for (const auto& root : roots) paths.push_back(root / "libtpu/libtpu.so");
  for (std::string_view dir : {"/lib", "/usr/lib", "/usr/local/lib"}) {
    paths.push_back(std::filesystem::path(dir) / "libtpu.so");
  }
  for (std::string_view plugin : {"xla_cuda12", "xla_cuda13"}) {
    for (const auto& root : roots) paths.push_back(root / "jax_plugins" / plugin / "xla_cuda_plugin.so");
  }
  return paths;
}

}  // namespace

std::optional<std::filesystem::path> find_pjrt_plugin(const std::optional<std::string>& flag,
                                                      const Environment& environment, const FileExists& exists) {
  if (flag && !flag->empty()) return *flag;
  for (const char* name : {"PJRT_PLUGIN_LIBRARY_PATH", "TPU_LIBRARY_PATH"}) {
    if (auto named = variable(environment, name)) return *named;
  }
  for (const auto& candidate : candidates(environment)) {
    if (exists(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace tpustack::inferd::engine::pjrt
