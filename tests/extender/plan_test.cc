#include <gtest/gtest.h>

#include "common/files/file_text.h"
#include "extender/model/cluster_state.h"
#include "extender/plan/cluster_plan.h"
#include "extender/plan/object_list.h"
#include "tests/support/result_matchers.h"

namespace tpustack::extender {
namespace {

using tpustack::testing::value_of;

std::vector<nlohmann::json> data(const std::string& name) {
  const std::string path = std::string(TPUSTACK_SOURCE_DIR) + "/tests/extender/data/" + name;
  return parse_object_list(files::read_file_text(path, "test data").value(), path).value();
}

ClusterState snapshot() {
  ClusterState state;
  for (const auto& node : data("plan-nodes.yaml")) state.upsert_node(value_of(parse_node(node)));
  for (const auto& pod : data("plan-pods.json")) state.upsert_pod(value_of(parse_pod(pod)));
  return state;
}

TEST(ObjectList, ReadsListsBareListsAndDocumentsWithYamlTypes) {
  auto objects = parse_object_list("kind: List\nitems:\n- {kind: Node, metadata: {name: a}}\n", "x.yaml").value();
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0]["metadata"]["name"], "a");
  objects =
      parse_object_list("- kind: Pod\n  spec: {hostNetwork: true, n: 4, q: '4'}\n---\nkind: Pod\n", "x.yaml").value();
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]["spec"]["hostNetwork"], true);
  EXPECT_EQ(objects[0]["spec"]["n"], 4);
  EXPECT_EQ(objects[0]["spec"]["q"], "4");
  const auto bad = parse_object_list("a: [1, 2\n", "bad.yaml");
  ASSERT_FALSE(bad) << "no error";
  EXPECT_EQ(bad.error().message.rfind("bad.yaml:", 0), 0u) << bad.error().message;
  EXPECT_EQ(parse_object_list("kind: List\n---\n- 7\n", "odd.yaml").error().message,
            "odd.yaml:3: expected Kubernetes objects or a List of them");
}

TEST(ClusterPlan, PlacesOneGroupPerSliceBinPacksAndNamesThePoolsNeeded) {
  auto state = snapshot();
  auto plan = plan_cluster(state);
  std::map<std::string, std::string> where;
  for (const auto& placed : plan.placed) where[placed.pod] = placed.node;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(where["ml/train-a-slice-0-" + std::to_string(i) + "-abcde"], "gke-v6e-a-" + std::to_string(i));
  }
  EXPECT_EQ(where["ml/serve-0"], where["ml/serve-1"]);  // two half-host pods share one 8-chip VM

  ASSERT_EQ(plan.waiting.size(), 2u);
  const auto& blocked = plan.waiting[1];
  EXPECT_EQ(blocked.who, "JobSet job ml/train-b-slice-0");
  EXPECT_EQ(blocked.pods.size(), 4u);
  EXPECT_NE(blocked.reason.find("slice v6e-4x4-a is reserved by JobSet job ml/train-a-slice-0 (4 nodes)"),
            std::string::npos)
      << blocked.reason;

  std::vector<std::string> pools;
  for (const auto& pool : plan.pools) pools.push_back(pool.describe());
  EXPECT_EQ(pools, (std::vector<std::string>{"tpu-v5p-slice 2x2x2: 2 x ct5p-hightpu-4t (for Job ml/v5p-job)",
                                             "tpu-v6e-slice 4x4: 4 x ct6e-standard-4t (for JobSet job "
                                             "ml/train-b-slice-0)"}));
  auto text = render_plan(plan);
  EXPECT_NE(text.find("ml/train-a-slice-0-2-abcde -> gke-v6e-a-2  slice v6e-4x4-a, worker 2 of 4"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace tpustack::extender
