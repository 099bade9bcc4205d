#include "inferd/engine/pjrt/plugin_location.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace tpustack::inferd::engine::pjrt {
namespace {

// A machine: its environment and the files on it.
struct Machine {
  std::map<std::string, std::string> variables;
  std::set<std::filesystem::path> files;

  std::optional<std::filesystem::path> find(const std::optional<std::string>& flag = std::nullopt) const {
    return find_pjrt_plugin(
        flag,
        [this](const char* name) -> const char* {
          auto found = variables.find(name);
          return found == variables.end() ? nullptr : found->second.c_str();
        },
        [this](const std::filesystem::path& path) { return files.contains(path); });
  }
};

TEST(PjrtPluginLocation, TheFlagWinsAsGiven) {
  const Machine machine{{{"PJRT_PLUGIN_LIBRARY_PATH", "/env/plugin.so"}}, {"/lib/libtpu.so"}};
  EXPECT_EQ(machine.find("/flag/plugin.so"), std::filesystem::path("/flag/plugin.so"));
}

TEST(PjrtPluginLocation, TheEnvironmentComesNextEvenForAPathThatIsMissing) {
  const Machine gopjrt{{{"PJRT_PLUGIN_LIBRARY_PATH", "/missing/plugin.so"}, {"TPU_LIBRARY_PATH", "/tpu/libtpu.so"}},
                       {"/lib/libtpu.so"}};
  EXPECT_EQ(gopjrt.find(), std::filesystem::path("/missing/plugin.so"));
  const Machine jax{{{"TPU_LIBRARY_PATH", "/tpu/libtpu.so"}}, {"/lib/libtpu.so"}};
  EXPECT_EQ(jax.find(), std::filesystem::path("/tpu/libtpu.so"));
}

TEST(PjrtPluginLocation, EmptyValuesCountAsUnset) {
  const Machine machine{{{"PJRT_PLUGIN_LIBRARY_PATH", ""}, {"TPU_LIBRARY_PATH", ""}}, {"/usr/lib/libtpu.so"}};
  EXPECT_EQ(machine.find(""), std::filesystem::path("/usr/lib/libtpu.so"));
}

TEST(PjrtPluginLocation, TheLibtpuWheelIsFoundInTheActiveVirtualEnvironmentFirst) {
  const Machine machine{{{"VIRTUAL_ENV", "/srv/venv"}, {"HOME", "/home/me"}},
                        {"/srv/venv/lib/python3.12/site-packages/libtpu/libtpu.so",
                         "/usr/local/lib/python3.11/dist-packages/libtpu/libtpu.so", "/lib/libtpu.so"}};
  EXPECT_EQ(machine.find(), std::filesystem::path("/srv/venv/lib/python3.12/site-packages/libtpu/libtpu.so"));
}

TEST(PjrtPluginLocation, TheLibtpuOfATpuVmImageIsFound) {
  const Machine machine{{}, {"/lib/libtpu.so"}};
  EXPECT_EQ(machine.find(), std::filesystem::path("/lib/libtpu.so"));
}

TEST(PjrtPluginLocation, TheJaxCudaPluginIsFoundWhenNoLibtpuIs) {
  const Machine machine{{{"HOME", "/home/me"}},
                        {"/home/me/.local/lib/python3.11/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so"}};
  EXPECT_EQ(
      machine.find(),
      std::filesystem::path("/home/me/.local/lib/python3.11/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so"));
  const Machine cuda13{{}, {"/usr/local/lib/python3.13/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"}};
  EXPECT_EQ(cuda13.find(),
            std::filesystem::path("/usr/local/lib/python3.13/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"));
}

TEST(PjrtPluginLocation, LibtpuIsPreferredToTheCudaPlugin) {
  const Machine machine{{},
                        {"/usr/local/lib/python3.11/dist-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
                         "/usr/local/lib/libtpu.so"}};
  EXPECT_EQ(machine.find(), std::filesystem::path("/usr/local/lib/libtpu.so"));
}

TEST(PjrtPluginLocation, NothingIsFoundOnAMachineWithoutAPlugin) {
  const Machine machine{{{"HOME", "/home/me"}}, {"/usr/lib/libm.so.6"}};
  EXPECT_EQ(machine.find(), std::nullopt);
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
