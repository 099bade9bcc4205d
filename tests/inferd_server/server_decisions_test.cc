#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inferd/server/backend_selection.h"
#include "inferd/server/eviction.h"
#include "inferd/server/grpc_service.h"
#include "inferd/server/inference_service.h"
#include "inferd/server/model_catalog.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::server {
namespace {

BackendRequest request(const std::string& value) { return testing::value_of(parse_backend_request(value)); }

const PluginProbe four_chips{"/usr/lib/libtpu.so", "tpu", 4, "TPU v5 lite"};

TEST(BackendSelection, RequestsTakeGomlxStyleAliases) {
  EXPECT_EQ(request("auto").kind, BackendRequest::Kind::automatic);
  EXPECT_EQ(request("cpu").kind, BackendRequest::Kind::cpu);
  EXPECT_EQ(request("pjrt").kind, BackendRequest::Kind::pjrt);
  EXPECT_EQ(request("pjrt").platform, "");
  for (const std::string platform : {"tpu", "cuda", "cpu"}) {
    EXPECT_EQ(request("xla:" + platform).kind, BackendRequest::Kind::pjrt);
    EXPECT_EQ(request("xla:" + platform).platform, platform);
  }
  EXPECT_EQ(request("tpu").platform, "tpu");
  auto wrong = parse_backend_request("gpu");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("auto, cpu, pjrt, xla:tpu"), std::string::npos);
}

TEST(BackendSelection, AutoTakesALoadedPluginWithDevicesElseCpuSayingWhy) {
  DeviceEnvironment tpu{"v5litepod-4", "0,1,2,3", "", "", ""};
  auto chosen = testing::value_of(choose_backend(request("auto"), four_chips, tpu));
  EXPECT_EQ(chosen.backend, "pjrt");
  EXPECT_EQ(chosen.reason, "auto: PJRT plugin /usr/lib/libtpu.so (tpu), 4 x TPU v5 lite");

  const Result<PluginProbe> none = Error{"no PJRT plugin found (--pjrt-plugin, PJRT_PLUGIN_LIBRARY_PATH, libtpu.so)"};
  auto fallback = testing::value_of(choose_backend(request("auto"), none, tpu));
  EXPECT_EQ(fallback.backend, "cpu");
  EXPECT_EQ(fallback.reason,
            "auto: TPU v5litepod-4 is visible but no PJRT plugin found (--pjrt-plugin, PJRT_PLUGIN_LIBRARY_PATH, "
            "libtpu.so); running on cpu");
  auto bare = testing::value_of(choose_backend(request("auto"), none, {}));
  EXPECT_EQ(bare.backend, "cpu");
  EXPECT_NE(bare.reason.find("auto: no accelerator in the environment"), std::string::npos);
  auto deviceless = testing::value_of(choose_backend(request("auto"), PluginProbe{"/p.so", "cuda", 0, ""}, {}));
  EXPECT_EQ(deviceless.backend, "cpu");
  EXPECT_NE(deviceless.reason.find("shows no device"), std::string::npos);
}

TEST(BackendSelection, ExplicitChoicesThatCannotWorkAreErrors) {
  auto absent = choose_backend(request("pjrt"), Result<PluginProbe>(Error{"no PJRT plugin found"}), {});
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().message, "--backend pjrt: no PJRT plugin found");
  auto other = choose_backend(request("xla:cuda"), four_chips, {});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message, "--backend xla:cuda: the PJRT plugin /usr/lib/libtpu.so runs on tpu, not cuda");
  EXPECT_EQ(testing::value_of(choose_backend(request("xla:tpu"), four_chips, {})).backend, "pjrt");
  // cpu never looks at the plugin.
  auto cpu = choose_backend(request("cpu"), four_chips, {"v5litepod-4", "0", "", "", ""});
  EXPECT_EQ(testing::value_of(std::move(cpu)).backend, "cpu");
}

TEST(WorkerRole, FromTheDevicePluginEnvironment) {
  EXPECT_EQ(worker_role({})->role, "single");
  auto leader = worker_role({"", "", "", "0", "host-0,host-1"});
  ASSERT_TRUE(leader);
  EXPECT_EQ(leader->role, "leader");
  EXPECT_EQ(leader->workers, 2u);
  EXPECT_EQ(worker_role({"", "", "", "1", "host-0,host-1"})->role, "follower");
  EXPECT_FALSE(worker_role({"", "", "", "2", "host-0,host-1"}));
  EXPECT_FALSE(worker_role({"", "", "", "one", "host-0"}));
}

TEST(Eviction, LeastRecentlyUsedIdleModelsGoFirst) {
  std::vector<ResidentModel> resident{{"a", 40, 3, false}, {"b", 40, 1, false}, {"c", 40, 2, true}};
  EXPECT_EQ(choose_evictions(resident, 10, 0)->size(), 0u);  // no budget
  EXPECT_EQ(choose_evictions(resident, 10, 200)->size(), 0u);
  EXPECT_EQ(*choose_evictions(resident, 40, 130), std::vector<std::string>{"b"});
  // c is busy, so a goes after b.
  EXPECT_EQ(*choose_evictions(resident, 80, 130), (std::vector<std::string>{"b", "a"}));
  EXPECT_FALSE(choose_evictions(resident, 100, 130));
}

TEST(Ranking, BestFirstIsStable) { EXPECT_EQ(best_first({0.1f, 0.9f, 0.5f, 0.9f}), (std::vector<size_t>{1, 3, 2, 0})); }

TEST(ModelCatalog, ModelsBeingPulledAreNotListed) {
  // `inferd pull` assembles models in .partial/ (two levels deep for owner/name): serving one of those would load
  // a model with half its files.
  const std::filesystem::path dir = tpustack::testing::make_temp_dir("catalog");
  for (const char* model : {"mini", "owner/bge", ".partial/next", ".partial/owner/other"}) {
    std::filesystem::create_directories(dir / model);
    std::ofstream(dir / model / "config.json") << "{}";
  }
  auto catalog = discover_models(dir, {});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(catalog) << catalog.error().message;
  std::vector<std::string> names;
  for (const auto& [name, entry] : *catalog) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"mini", "owner/bge"}));
}

TEST(GrpcCodes, FromHttpStatus) {
  EXPECT_EQ(grpc_code(429), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(grpc_code(404), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(grpc_code(413), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grpc_code(422), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grpc_code(504), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(grpc_code(503), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace tpustack::inferd::server
