#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace tpustack::inferd::engine::pjrt {

// An environment variable's value as std::getenv gives it (nullptr when unset); tests pass their own.
using Environment = std::function<const char*(const char*)>;
using FileExists = std::function<bool(const std::filesystem::path&)>;

// Which PJRT plugin library to load, strongest first:
//   1. `flag` (--pjrt-plugin);
//   2. the environment's PJRT_PLUGIN_LIBRARY_PATH (gopjrt's name), then TPU_LIBRARY_PATH (libtpu's and JAX's);
//   3. the first that `exists` of where packages put a plugin: libtpu.so from the libtpu wheel
//      (SITE/libtpu/libtpu.so) and on TPU VM images (/lib, /usr/lib, /usr/local/lib), then the jax CUDA plugin
//      wheels' SITE/jax_plugins/xla_cuda12/xla_cuda_plugin.so and xla_cuda13. SITE is each of $VIRTUAL_ENV's
//      site-packages, the user's ($HOME/.local), /usr/local/lib/python3.X/{dist,site}-packages (X from 10 to 14) and
//      /usr/lib/python3/dist-packages.
// A path the flag or the environment names is returned as given, existing or not, for loading it to say what is
// wrong. Empty values count as unset. nullopt when nothing is found.
std::optional<std::filesystem::path> find_pjrt_plugin(const std::optional<std::string>& flag,
                                                      const Environment& environment, const FileExists& exists);

}  // namespace tpustack::inferd::engine::pjrt
