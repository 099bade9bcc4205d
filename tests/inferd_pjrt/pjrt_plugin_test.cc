#include "inferd/engine/pjrt/pjrt_plugin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <string>
#include <utility>

#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "tests/inferd_pjrt/fake_pjrt_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::engine::pjrt {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

using PjrtPluginTest = FakePjrtTest;

TEST_F(PjrtPluginTest, TheFakePluginShowsItsPlatformAndTwoDevices) {
  const PjrtPlugin plugin = value_of(PjrtPlugin::load(kFakePlugin));
  EXPECT_EQ(plugin.api_version().major, PJRT_API_MAJOR);
  EXPECT_EQ(plugin.api_version().minor, PJRT_API_MINOR);

  const PjrtClient client = value_of(plugin.create_client());
  EXPECT_EQ(client.platform_name(), "fake");
  EXPECT_THAT(client.addressable_devices(),
              ElementsAre(AllOf(Field(&PjrtDevice::id, 0), Field(&PjrtDevice::kind, "FakeTPU v0")),
                          AllOf(Field(&PjrtDevice::id, 1), Field(&PjrtDevice::kind, "FakeTPU v0"))));
}

TEST_F(PjrtPluginTest, LoadingTwiceGivesTwoWorkingPluginsInitialisedOnce) {
  const PjrtPlugin first = value_of(PjrtPlugin::load(kFakePlugin));
  const PjrtPlugin second = value_of(PjrtPlugin::load(kFakePlugin));
  EXPECT_EQ(value_of(first.create_client()).addressable_devices().size(), 2u);
  EXPECT_EQ(value_of(second.create_client()).addressable_devices().size(), 2u);
  EXPECT_EQ(fake_counter("FakePjrt_Initializations"), 1);
}

TEST_F(PjrtPluginTest, TheClientIsDestroyedWithItsObjectAndOnlyOnce) {
  const PjrtPlugin plugin = value_of(PjrtPlugin::load(kFakePlugin));
  const int before = fake_counter("FakePjrt_LiveClients");
  {
    PjrtClient client = value_of(plugin.create_client());
    EXPECT_EQ(fake_counter("FakePjrt_LiveClients"), before + 1);
    PjrtClient moved = std::move(client);
    moved = value_of(plugin.create_client());
    EXPECT_EQ(fake_counter("FakePjrt_LiveClients"), before + 1);
    EXPECT_EQ(moved.platform_name(), "fake");
  }
  EXPECT_EQ(fake_counter("FakePjrt_LiveClients"), before);
}

TEST_F(PjrtPluginTest, AFailedClientCreateGivesThePluginsMessageAndCodeAndFreesTheError) {
  const PjrtPlugin plugin = value_of(PjrtPlugin::load(kFakePlugin));
  const int clients = fake_counter("FakePjrt_LiveClients");
  setenv("FAKE_PJRT_FAIL_CLIENT_CREATE", "no TPU chips are free", 1);
  EXPECT_THAT(plugin.create_client(),
              FailsWith("PJRT_Client_Create failed: no TPU chips are free (code 8 RESOURCE_EXHAUSTED)"));
  EXPECT_EQ(fake_counter("FakePjrt_LiveErrors"), 0);
  EXPECT_EQ(fake_counter("FakePjrt_LiveClients"), clients);
}

TEST_F(PjrtPluginTest, APathThatDoesNotExistSaysWhyItDoesNotLoad) {
  EXPECT_THAT(PjrtPlugin::load("/nonexistent/libtpu.so"),
              FailsWith(AllOf(HasSubstr("PJRT plugin /nonexistent/libtpu.so does not load: "),
                              HasSubstr("No such file or directory"))));
}

TEST_F(PjrtPluginTest, ALibraryWithoutGetPjrtApiIsNotAPlugin) {
  EXPECT_THAT(PjrtPlugin::load("libm.so.6"), FailsWith("libm.so.6 is not a PJRT plugin: it exports no GetPjrtApi"));
}

TEST_F(PjrtPluginTest, AnotherMajorVersionIsRefusedNamingBothVersions) {
  setenv("FAKE_PJRT_API_MAJOR", "1", 1);
  setenv("FAKE_PJRT_API_MINOR", "3", 1);
  EXPECT_THAT(PjrtPlugin::load(kFakePlugin),
              FailsWith(AllOf(HasSubstr("speaks PJRT API 1.3, inferd speaks 0." + std::to_string(PJRT_API_MINOR)),
                              HasSubstr("use a plugin built for PJRT API 0.x"))));
}

TEST_F(PjrtPluginTest, AnOlderMinorVersionIsRefusedNamingTheOneNeeded) {
  setenv("FAKE_PJRT_API_MINOR", "40", 1);
  EXPECT_THAT(PjrtPlugin::load(kFakePlugin),
              FailsWith(HasSubstr("speaks PJRT API 0.40, older than the 0.57 inferd needs")));
}

TEST_F(PjrtPluginTest, AFunctionTableTooShortForTheCallsMadeIsRefused) {
  setenv("FAKE_PJRT_API_STRUCT_SIZE", std::to_string(offsetof(PJRT_Api, PJRT_Client_Create)).c_str(), 1);
  EXPECT_THAT(PjrtPlugin::load(kFakePlugin),
              FailsWith(AllOf(HasSubstr("function table is " + std::to_string(offsetof(PJRT_Api, PJRT_Client_Create)) +
                                        " bytes, too short"),
                              HasSubstr("up to PJRT_Buffer_ReadyEvent"))));
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
