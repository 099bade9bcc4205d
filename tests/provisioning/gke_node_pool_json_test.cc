#include "extender/provisioning/gke_node_pool_json.h"

#include <gtest/gtest.h>

#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;
using testing::PodBuilder;

PoolDefaults reference_defaults() {
  PoolDefaults defaults;
  defaults.service_account = "SA@P.iam.gserviceaccount.com";
  defaults.node_locations = {"us-east5-b"};
  return defaults;
}

GkePoolOptions in_zone(const std::string& zone) {
  GkePoolOptions options;
  options.zone = zone;
  return options;
}

// Checks a body against shared/reference/tpu-on-kubernetes.md §I.4 (v6e 4x4, spot) key by key: the
// same keys, JSON types and values; only the labels differ, ours replacing tpu-provisioner's, and the
// cloud-platform scope is added (the default service account gets no scope without it).
void expect_reference_shape(const json& body, const PoolSpec& spec) {
  ASSERT_EQ(body.size(), 1u);
  const json& pool = body.at("nodePool");
  EXPECT_EQ(pool.size(), 8u) << pool.dump(2);
  EXPECT_EQ(pool.at("name"), spec.name);
  EXPECT_TRUE(pool.at("initialNodeCount").is_number_integer());
  EXPECT_EQ(pool.at("initialNodeCount"), 4);
  EXPECT_EQ(pool.at("locations"), json::array({"us-east5-b"}));
  EXPECT_EQ(pool.at("placementPolicy"), (json{{"type", "COMPACT"}, {"tpuTopology", "4x4"}}));
  EXPECT_EQ(pool.at("management"), (json{{"autoRepair", true}, {"autoUpgrade", false}}));
  EXPECT_EQ(pool.at("upgradeSettings"), (json{{"maxSurge", 1}}));
  EXPECT_TRUE(pool.at("maxPodsConstraint").at("maxPodsPerNode").is_string());  // int64 travels as a string
  EXPECT_EQ(pool.at("maxPodsConstraint"), (json{{"maxPodsPerNode", "15"}}));

  const json& config = pool.at("config");
  EXPECT_EQ(config.size(), 7u) << config.dump(2);
  EXPECT_EQ(config.at("oauthScopes"), json::array({"https://www.googleapis.com/auth/cloud-platform"}));
  EXPECT_EQ(config.at("machineType"), "ct6e-standard-4t");
  EXPECT_EQ(config.at("spot"), true);
  EXPECT_EQ(config.at("taints"),
            json::array({{{"key", "cloud.google.com/gke-spot"}, {"value", "true"}, {"effect", "NO_SCHEDULE"}}}));
  EXPECT_EQ(config.at("serviceAccount"), "SA@P.iam.gserviceaccount.com");
  EXPECT_EQ(config.at("shieldedInstanceConfig"),
            (json{{"enableIntegrityMonitoring", true}, {"enableSecureBoot", true}}));
  const json& labels = config.at("labels");
  EXPECT_EQ(labels.at("tpustack.dev/managed-by"), "tpu-extender");
  EXPECT_EQ(labels.at("tpustack.dev/group"), "train-workers-0");
  EXPECT_EQ(labels.at("tpustack.dev/group-namespace"), "default");
  EXPECT_EQ(labels.at("tpustack.dev/owner-kind"), "JobSet");
  EXPECT_EQ(labels.at("tpustack.dev/owner-name"), "train");
  EXPECT_EQ(labels.at("tpustack.dev/pool-spec-hash"), spec.hash);
  EXPECT_EQ(labels.at("gke-no-default-tpu-device-plugin"), "true");  // our device plugin's nodes, not GKE's
  for (const auto& [key, value] : labels.items()) EXPECT_TRUE(value.is_string()) << key;
}

TEST(NodePoolCreateBody, MatchesTheReferenceShapeFieldByField) {
  PodBuilder builder;
  builder.extra_selector = {{"cloud.google.com/gke-spot", "true"}};
  PoolSpec spec = build_pool_spec(pod_facts(builder.build()), reference_defaults()).value();
  expect_reference_shape(node_pool_create_body(spec, reference_defaults(), in_zone("us-east5-b")), spec);
}

TEST(NodePoolCreateBody, OnAReleaseChannelAutoUpgradeIsLeftToGke) {
  PoolSpec spec = build_pool_spec(pod_facts(PodBuilder().build()), {}).value();
  GkePoolOptions options = in_zone("us-east5-a");
  options.auto_upgrade_off = false;
  options.oauth_scopes = {"https://www.googleapis.com/auth/devstorage.read_only"};
  json body = node_pool_create_body(spec, {}, options);
  EXPECT_EQ(body["nodePool"]["management"], (json{{"autoRepair", true}}));
  EXPECT_EQ(body["nodePool"]["config"]["oauthScopes"],
            json::array({"https://www.googleapis.com/auth/devstorage.read_only"}));
}

TEST(NodePoolCreateBody, AZoneThePodSelectsIsTheLocationNotANodeLabel) {
  PodBuilder builder;
  builder.extra_selector = {{"topology.kubernetes.io/zone", "us-east5-c"}};
  json body = node_pool_create_body(build_pool_spec(pod_facts(builder.build()), {}).value(), {}, in_zone("us-east5-c"));
  EXPECT_EQ(body["nodePool"]["locations"], json::array({"us-east5-c"}));
  EXPECT_FALSE(body["nodePool"]["config"]["labels"].contains("topology.kubernetes.io/zone"));
}

TEST(NodePoolCreateBody, SingleHostHasNoPlacementAndTpu7xNamesItsPolicy) {
  PodBuilder eight;
  eight.topology = "2x4";
  eight.chips = 8;
  json body = node_pool_create_body(build_pool_spec(pod_facts(eight.build()), {}).value(), {}, in_zone("us-east5-a"));
  EXPECT_FALSE(body["nodePool"].contains("placementPolicy"));
  EXPECT_EQ(body["nodePool"]["locations"], json::array({"us-east5-a"}));  // one zone, even for a single host
  EXPECT_EQ(body["nodePool"]["initialNodeCount"], 1);
  EXPECT_EQ(body["nodePool"]["config"]["machineType"], "ct6e-standard-8t");
  EXPECT_FALSE(body["nodePool"]["config"].contains("spot"));
  EXPECT_FALSE(body["nodePool"]["config"].contains("taints"));  // GKE adds google.com/tpu itself
  EXPECT_FALSE(body["nodePool"]["config"].contains("serviceAccount"));

  PodBuilder ironwood;
  ironwood.accelerator = "tpu7x";
  ironwood.topology = "2x2x2";
  body = node_pool_create_body(build_pool_spec(pod_facts(ironwood.build()), {}).value(), {}, in_zone("us-central1-c"));
  EXPECT_EQ(body["nodePool"]["placementPolicy"], (json{{"policyName", "tpustack-2x2x2"}}));
  EXPECT_EQ(body["nodePool"]["config"]["machineType"], "tpu7x-standard-4t");
}

TEST(NodePoolCreateBody, Reservation) {
  PodBuilder builder;
  builder.extra_selector = {{"cloud.google.com/reservation-name", "r"}};
  json body = node_pool_create_body(build_pool_spec(pod_facts(builder.build()), {}).value(), {}, in_zone("us-east5-a"));
  EXPECT_EQ(body["nodePool"]["config"]["reservationAffinity"], (json{{"consumeReservationType", "SPECIFIC_RESERVATION"},
                                                                     {"key", "compute.googleapis.com/reservation-name"},
                                                                     {"values", {"r"}}}));
}

TEST(ParseNodePool, ReadsStatusLabelsAndChips) {
  json pool = {{"name", "p"},
               {"status", "ERROR"},
               {"statusMessage", "stockout"},
               {"initialNodeCount", 4},
               {"config", {{"machineType", "ct6e-standard-4t"}, {"labels", {{"a", "b"}}}}}};
  PoolState state = parse_node_pool(pool);
  EXPECT_EQ(state.name, "p");
  EXPECT_EQ(state.status, PoolStatus::kError);
  EXPECT_EQ(state.status_message, "stockout");
  EXPECT_EQ(state.chips, 16);
  EXPECT_EQ(state.label("a"), "b");
  EXPECT_EQ(parse_node_pool({{"name", "cpu"}, {"config", {{"machineType", "e2-standard-4"}}}}).chips, 0);
}

TEST(ParseNodePool, KnowsEveryStatusGkeReportsAndNoOther) {
  for (const char* word : {"PROVISIONING", "RUNNING", "RUNNING_WITH_ERROR", "RECONCILING", "STOPPING", "ERROR"}) {
    const PoolStatus status = parse_node_pool({{"name", "p"}, {"status", word}}).status;
    EXPECT_NE(status, PoolStatus::kUnknown) << word;
    EXPECT_EQ(to_string(status), word);
  }
  // A word GKE may add, a different case, or none: never mistaken for a known state.
  EXPECT_EQ(parse_node_pool({{"name", "p"}, {"status", "STATUS_UNSPECIFIED"}}).status, PoolStatus::kUnknown);
  EXPECT_EQ(parse_node_pool({{"name", "p"}, {"status", "running"}}).status, PoolStatus::kUnknown);
  EXPECT_EQ(parse_node_pool({{"name", "p"}}).status, PoolStatus::kUnknown);
}

TEST(ParseNodePool, APoolInThreeZonesHasThreeTimesTheChips) {
  json pool = {{"name", "p"},
               {"initialNodeCount", 4},
               {"locations", {"us-east5-a", "us-east5-b", "us-east5-c"}},
               {"config", {{"machineType", "ct6e-standard-4t"}}}};
  EXPECT_EQ(parse_node_pool(pool).node_count, 4);  // per zone, as setSize counts
  EXPECT_EQ(parse_node_pool(pool).chips, 48);
}

}  // namespace
}  // namespace tpustack::provisioning
