#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inferd/server/backend_selection.h"
#include "inferd/server/eviction.h"
#include "inferd/server/grpc_service.h"
#include "inferd/server/inference_service.h"
#include "inferd/server/model_catalog.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::server {
namespace {

const std::set<std::string> cpu_only{"cpu"};

TEST(BackendSelection, AutoUsesCpuAndSaysWhyWhenTheTpuBackendIsNotBuilt) {
  DeviceEnvironment tpu{"v5litepod-4", "0,1,2,3", "", "", ""};
  auto chosen = select_backend("auto", tpu, cpu_only);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->backend, "cpu");
  EXPECT_NE(chosen->reason.find("v5litepod-4 is visible but this build has no tpu backend"), std::string::npos);
  auto with_tpu = select_backend("auto", tpu, {"cpu", "tpu"});
  ASSERT_TRUE(with_tpu);
  EXPECT_EQ(with_tpu->backend, "tpu");
  EXPECT_EQ(select_backend("auto", {}, cpu_only)->backend, "cpu");
}

TEST(BackendSelection, ExplicitChoicesThatCannotWorkAreErrors) {
  auto tpu = select_backend("tpu", {"v5litepod-4", "0", "", "", ""}, cpu_only);
  ASSERT_FALSE(tpu);
  EXPECT_NE(tpu.error().message.find("built without the tpu backend"), std::string::npos);
  auto absent = select_backend("tpu", {}, {"cpu", "tpu"});
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message.find("google.com/tpu"), std::string::npos);
  EXPECT_FALSE(select_backend("cuda", {"", "", "0", "", ""}, cpu_only));
  EXPECT_FALSE(select_backend("gpu", {}, cpu_only));
  EXPECT_EQ(select_backend("cpu", {"v5litepod-4", "0", "", "", ""}, cpu_only)->backend, "cpu");
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
