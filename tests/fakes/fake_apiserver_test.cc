// The fake's own pure parts: selectors, URL parsing, history bounds.
#include <gtest/gtest.h>

#include "tests/fakes/api_path.h"
#include "tests/fakes/fake_api_store.h"
#include "tests/fakes/label_selector.h"

namespace tpustack::fakes {
namespace {

TEST(LabelSelector, EqualityInNotInExists) {
  std::map<std::string, std::string> labels = {{"app", "web"}, {"tier", "front"}};
  EXPECT_TRUE(LabelSelector::parse("app=web,tier==front").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app in (db, web)").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app notin (web)").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app!=db,tier,!canary").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("canary").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("").matches(labels));
  EXPECT_THROW(LabelSelector::parse("app in web"), std::invalid_argument);
}

TEST(FieldSelector, DottedPaths) {
  nlohmann::json pod = {{"metadata", {{"name", "p"}}}, {"spec", {{"nodeName", "n1"}}}};
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName=n1,metadata.name==p").matches(pod));
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName!=").matches(pod));
  EXPECT_FALSE(FieldSelector::parse("status.phase=Running").matches(pod));
}

TEST(ApiPath, CoreGroupedNamespacedAndSubresources) {
  auto binding = parse_api_path("/api/v1/namespaces/ml/pods/w-0/binding?dryRun=All");
  ASSERT_TRUE(binding);
  EXPECT_EQ(binding->resource, (GroupResource{"", "pods"}));
  EXPECT_EQ(binding->ns, "ml");
  EXPECT_EQ(binding->name, "w-0");
  EXPECT_EQ(binding->subresource, "binding");
  EXPECT_EQ(binding->query_value("dryRun"), "All");
  auto jobsets = parse_api_path("/apis/jobset.x-k8s.io/v1alpha2/jobsets?labelSelector=a%20in%20(b)");
  ASSERT_TRUE(jobsets);
  EXPECT_EQ(jobsets->resource.group, "jobset.x-k8s.io");
  EXPECT_EQ(jobsets->query_value("labelSelector"), "a in (b)");
  auto ns = parse_api_path("/api/v1/namespaces/ml");
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->resource.resource, "namespaces");
  EXPECT_EQ(ns->name, "ml");
  EXPECT_FALSE(parse_api_path("/healthz"));
}

TEST(FakeApiStore, BoundedHistoryExpiresOldVersions) {
  FakeApiStore store(/*history_limit=*/2);
  for (const char* name : {"a", "b", "c"}) store.create({"", "pods"}, "d", {{"metadata", {{"name", name}}}});
  EXPECT_TRUE(store.changes_after(0).gone);
  auto changes = store.changes_after(1);
  EXPECT_FALSE(changes.gone);
  EXPECT_EQ(changes.events.size(), 2u);
  store.compact();
  EXPECT_TRUE(store.changes_after(2).gone);
  EXPECT_FALSE(store.changes_after(3).gone);
}

}  // namespace
}  // namespace tpustack::fakes
