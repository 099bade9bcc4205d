// Compiled executables as bytes and back, through inferd's PJRT client against the fake plugin: what a compile
// cache stores, and what the plugin says of bytes it cannot load.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "inferd/engine/pjrt/pjrt_plugin.h"
#include "tests/inferd_pjrt/dense_layer_mlir.h"
#include "tests/inferd_pjrt/dense_layer_run.h"
#include "tests/inferd_pjrt/fake_pjrt_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::engine::pjrt {
namespace {

using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

constexpr std::string_view kDenseLayer = tpustack::stablehlo_reference::kDenseLayerMlir;

class PjrtSerializationTest : public FakePjrtTest {
 protected:
  PjrtPlugin plugin_ = value_of(PjrtPlugin::load(kFakePlugin));
  PjrtClient client_ = value_of(plugin_.create_client());
};

TEST_F(PjrtSerializationTest, AnExecutableLoadedFromItsBytesOnAnotherClientRunsAsTheCompiledOneWithoutACompile) {
  const int live_executables = fake_counter("FakePjrt_LiveExecutables");
  {
    const PjrtExecutable compiled = value_of(client_.compile(kDenseLayer));
    const std::string bytes = value_of(compiled.serialize());
    EXPECT_EQ(fake_counter("FakePjrt_LiveSerializedExecutables"), 0);

    const PjrtClient restarted = value_of(plugin_.create_client());
    const int compilations = fake_counter("FakePjrt_Compilations");
    const PjrtExecutable loaded = value_of(restarted.load_serialized(bytes));
    EXPECT_EQ(fake_counter("FakePjrt_Compilations"), compilations);
    EXPECT_EQ(loaded.num_outputs(), 2u);
    for (int device : {0, 1}) {
      SCOPED_TRACE("device " + std::to_string(device));
      EXPECT_EQ(run_dense_layer(restarted, loaded, device), run_dense_layer(client_, compiled, device));
    }
    // What a loaded executable serializes to loads again.
    EXPECT_EQ(value_of(loaded.serialize()), bytes);
  }
  EXPECT_EQ(fake_counter("FakePjrt_LiveExecutables"), live_executables);
}

TEST_F(PjrtSerializationTest, BytesThatAreDamagedOrOfAnotherPluginBuildAreRefusedByThePlugin) {
  const std::string bytes = value_of(value_of(client_.compile(kDenseLayer)).serialize());
  EXPECT_THAT(client_.load_serialized("\x08\x01garbage"),
              FailsWith("PJRT_Executable_DeserializeAndLoad failed: not a serialized executable of the fake plugin "
                        "(code 3 INVALID_ARGUMENT)"));
  EXPECT_THAT(client_.load_serialized(""), FailsWith(::testing::HasSubstr("not a serialized executable")));
  EXPECT_THAT(client_.load_serialized(std::string_view(bytes).substr(0, bytes.size() - 10)),
              FailsWith("PJRT_Executable_DeserializeAndLoad failed: the serialized executable is damaged (code 15 "
                        "DATA_LOSS)"));

  setenv("FAKE_PJRT_PLATFORM_VERSION", "fake 2", 1);
  const PjrtClient upgraded = value_of(plugin_.create_client());
  EXPECT_EQ(upgraded.platform_version(), "fake 2");
  EXPECT_THAT(upgraded.load_serialized(bytes),
              FailsWith("PJRT_Executable_DeserializeAndLoad failed: the executable was serialized by platform version "
                        "fake 1, this is fake 2 (code 9 FAILED_PRECONDITION)"));
  EXPECT_EQ(fake_counter("FakePjrt_LiveErrors"), 0);
}

TEST_F(PjrtSerializationTest, AFailedLoadCarriesThePluginsMessage) {
  const std::string bytes = value_of(value_of(client_.compile(kDenseLayer)).serialize());
  setenv("FAKE_PJRT_FAIL_DESERIALIZE", "executable was built by another libtpu", 1);
  EXPECT_THAT(client_.load_serialized(bytes),
              FailsWith("PJRT_Executable_DeserializeAndLoad failed: executable was built by another libtpu (code 13 "
                        "INTERNAL)"));
}

TEST_F(PjrtSerializationTest, TheClientNamesThePluginBuildItRunsOn) {
  EXPECT_EQ(client_.plugin_library(), kFakePlugin);
  EXPECT_EQ(client_.platform_version(), "fake 1");
  EXPECT_EQ(client_.api_version().major, plugin_.api_version().major);
  EXPECT_EQ(client_.api_version().minor, plugin_.api_version().minor);
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
