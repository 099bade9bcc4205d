// Which version of each model a server serves after its models directory or models.json changed: the decisions
// (plan_versions), models.json as a trainer writes it, and the digest an operator can compute with sha256sum.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inferd/registry/directory_digest.h"
#include "inferd/server/model_pointers.h"
#include "inferd/server/version_plan.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using tpustack::testing::FailsWith;

const std::string v1 = "sha256:" + std::string(64, '1');
const std::string v2 = "sha256:" + std::string(64, '2');

CatalogEntry version(const std::string& directory, const std::string& digest) {
  CatalogEntry entry;
  entry.directory = directory;
  entry.digest = digest;
  return entry;
}

TEST(VersionPlan, NothingChangedChangesNothing) {
  const ModelCatalog serving{{"bge", version("/m/bge", v1)}};
  const VersionPlan plan = plan_versions(serving, serving, {});
  EXPECT_THAT(plan.added, IsEmpty());
  EXPECT_THAT(plan.replaced, IsEmpty());
  EXPECT_THAT(plan.removed, IsEmpty());
  EXPECT_EQ(plan.catalog.at("bge").digest, v1);
}

TEST(VersionPlan, ADirectoryAddedReplacedOrRemoved) {
  const ModelCatalog serving{{"bge", version("/m/bge", v1)}, {"old", version("/m/old", v1)}};
  const ModelCatalog found{{"bge", version("/m/bge", v2)}, {"new", version("/m/new", v1)}};
  const VersionPlan plan = plan_versions(serving, found, {});
  EXPECT_THAT(plan.added, ElementsAre("new"));
  EXPECT_THAT(plan.replaced, ElementsAre("bge"));
  EXPECT_THAT(plan.removed, ElementsAre("old"));
  EXPECT_EQ(plan.catalog.at("bge").digest, v2);
  EXPECT_FALSE(plan.catalog.contains("old"));
}

TEST(VersionPlan, AnUnreadableDirectoryKeepsTheServedVersion) {
  // Mid-rename, or a file unreadable for a moment: dropping a working model for it would fail its requests.
  const ModelCatalog serving{{"bge", version("/m/bge", v1)}};
  const VersionPlan plan = plan_versions(serving, {{"bge", version("/m/bge", "")}}, {});
  EXPECT_THAT(plan.replaced, IsEmpty());
  EXPECT_THAT(plan.removed, IsEmpty());
  EXPECT_EQ(plan.catalog.at("bge").digest, v1);
}

TEST(VersionPlan, ThePointerFileSwitchesANameToAnotherDirectory) {
  const ModelCatalog serving{{"bge", version("/m/.versions/1", v1)}};
  const std::map<std::string, PointedVersion> pointed{{"bge", {{".versions/2", v2}, version("/m/.versions/2", v2)}}};
  const VersionPlan plan = plan_versions(serving, {}, pointed);
  EXPECT_THAT(plan.replaced, ElementsAre("bge"));
  EXPECT_EQ(plan.catalog.at("bge").directory, "/m/.versions/2");
  EXPECT_THAT(plan.refused, IsEmpty());
}

TEST(VersionPlan, ThePointerWinsOverADirectoryOfTheSameName) {
  const std::map<std::string, PointedVersion> pointed{{"bge", {{".versions/2", ""}, version("/m/.versions/2", v2)}}};
  const VersionPlan plan = plan_versions({}, {{"bge", version("/m/bge", v1)}}, pointed);
  EXPECT_THAT(plan.added, ElementsAre("bge"));
  EXPECT_EQ(plan.catalog.at("bge").digest, v2);  // no digest in the pointer: whatever is there
}

TEST(VersionPlan, APointerWhoseDigestDoesNotMatchIsRefusedAndTheOldVersionStays) {
  const ModelCatalog serving{{"bge", version("/m/.versions/1", v1)}};
  const std::map<std::string, PointedVersion> pointed{{"bge", {{".versions/2", v2}, version("/m/.versions/2", v1)}}};
  const VersionPlan plan = plan_versions(serving, {}, pointed);
  EXPECT_THAT(plan.replaced, IsEmpty());
  EXPECT_THAT(plan.removed, IsEmpty());
  EXPECT_EQ(plan.catalog.at("bge").directory, "/m/.versions/1");
  EXPECT_THAT(plan.refused.at("bge"), HasSubstr("holds " + v1 + ", not " + v2));
  EXPECT_EQ(plan.catalog.at("bge").refusal, plan.refused.at("bge"));  // what /info shows
}

TEST(VersionPlan, APointerToNothingIsRefused) {
  const ModelCatalog serving{{"bge", version("/m/.versions/1", v1)}};
  const std::map<std::string, PointedVersion> pointed{{"bge", {{".versions/9", v2}, std::nullopt}}};
  const VersionPlan plan = plan_versions(serving, {}, pointed);
  EXPECT_THAT(plan.refused.at("bge"), HasSubstr("no model directory"));
  EXPECT_EQ(plan.catalog.at("bge").digest, v1);
  // Refused before anything was served: nothing is.
  EXPECT_FALSE(plan_versions({}, {}, pointed).catalog.contains("bge"));
}

TEST(VersionPlan, FlappingBackToTheServedVersionIsNoSwitch) {
  ModelCatalog serving{{"bge", version("/m/bge", v1)}};
  VersionPlan to_v2 = plan_versions(serving, {{"bge", version("/m/bge", v2)}}, {});
  EXPECT_THAT(to_v2.replaced, ElementsAre("bge"));
  // Back to v1 before the switch was applied: compared with what is served, nothing changed.
  EXPECT_THAT(plan_versions(serving, {{"bge", version("/m/bge", v1)}}, {}).replaced, IsEmpty());
  // And after it was applied, going back is one more switch.
  EXPECT_THAT(plan_versions(to_v2.catalog, {{"bge", version("/m/bge", v1)}}, {}).replaced, ElementsAre("bge"));
}

TEST(VersionPlan, ANameKeepsItsServedModelNameAcrossVersions) {
  CatalogEntry served = version("/m/bge", v1);
  served.served_name = "embedder";
  const VersionPlan plan = plan_versions({{"bge", served}}, {{"bge", version("/m/bge", v2)}}, {});
  EXPECT_EQ(plan.catalog.at("bge").served_name, "embedder");
}

TEST(ModelPointers, ParsesWhatATrainerWrites) {
  auto pointers = parse_model_pointers(
      R"({"bge": {"path": ".versions/bge-2", "digest": ")" + v2 + R"("}, "e5": {"path": "/abs/e5"}})", "models.json");
  ASSERT_TRUE(pointers) << pointers.error().message;
  EXPECT_EQ(pointers->at("bge").path, ".versions/bge-2");
  EXPECT_EQ(pointers->at("bge").digest, v2);
  EXPECT_EQ(pointers->at("e5").digest, "");
}

TEST(ModelPointers, MistakesAreErrorsNamingTheFile) {
  EXPECT_THAT(parse_model_pointers(R"({"bge": {"path": ".versions/b)", "models.json"),
              FailsWith(HasSubstr("models.json")));  // half written
  EXPECT_THAT(parse_model_pointers(R"({"bge": {"digest": ")" + v2 + R"("}})", "models.json"),
              FailsWith(HasSubstr("\"path\"")));
  EXPECT_THAT(parse_model_pointers(R"({"bge": {"path": "x", "digest": "md5:abc"}})", "models.json"),
              FailsWith(HasSubstr("sha256:")));
  EXPECT_THAT(parse_model_pointers(R"({"bge": {"path": "x", "ref": "reg/bge:1"}})", "models.json"),
              FailsWith(HasSubstr("unknown field \"ref\"")));
  EXPECT_THAT(parse_model_pointers(R"(["bge"])", "models.json"), FailsWith(HasSubstr("must be an object")));
}

TEST(DirectoryDigest, IsSha256sumOverTheSortedFilesLeavingHiddenOnesOut) {
  const fs::path dir = tpustack::testing::make_temp_dir("inferd-digest");
  fs::create_directories(dir / "1_Pooling");
  std::ofstream(dir / "config.json") << "{}\n";
  std::ofstream(dir / "1_Pooling" / "config.json") << "pool\n";
  std::ofstream(dir / ".inferd-commit") << "abc\n";
  registry::DirectoryDigests digests;
  auto first = digests.digest(dir);
  ASSERT_TRUE(first) << first.error().message;
  // What `find -L . -type f ! -path '*/.*' -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`
  // printed for these files.
  EXPECT_EQ(*first, "sha256:71a2501fd2a899e2a9a1ee4bab82b83fbd2d95470889245817338f8dc21586e7");
  std::ofstream(dir / ".inferd-commit") << "def\n";
  EXPECT_EQ(*digests.digest(dir), *first);
  std::ofstream(dir / "1_Pooling" / "config.json") << "other\n";  // rewritten: a new size and mtime
  EXPECT_NE(*digests.digest(dir), *first);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tpustack::inferd::server
