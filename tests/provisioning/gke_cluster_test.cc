#include "extender/provisioning/gke_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/provisioning/provider_error.h"
#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

GkeCluster regional(const std::string& channel = "") {
  json cluster = {{"name", "c"},
                  {"location", "us-east5"},
                  {"locations", {"us-east5-a", "us-east5-b", "us-east5-c"}},
                  {"currentMasterVersion", "1.31.5-gke.1000000"}};
  if (!channel.empty()) cluster["releaseChannel"] = {{"channel", channel}};
  return parse_cluster(cluster);
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(ParseCluster, ReadsZonesChannelAndWhetherItIsRegional) {
  GkeCluster cluster = regional("REGULAR");
  EXPECT_TRUE(cluster.regional());
  EXPECT_EQ(cluster.zones.size(), 3u);
  EXPECT_EQ(cluster.release_channel, "REGULAR");
  EXPECT_EQ(cluster.master_version, "1.31.5-gke.1000000");
  EXPECT_EQ(regional("UNSPECIFIED").release_channel, "");
  GkeCluster zonal = parse_cluster({{"location", "europe-west4-a"}});
  EXPECT_FALSE(zonal.regional());
  EXPECT_EQ(zonal.zones, std::vector<std::string>{"europe-west4-a"});
  EXPECT_EQ(region_of("europe-west4-a"), "europe-west4");
  EXPECT_EQ(region_of("europe-west4"), "europe-west4");
}

TEST(FitCluster, ARegionalClusterGetsOneZonePerPoolAndAWarningWhenNoneIsConfigured) {
  ClusterFit fit = fit_cluster(regional(), {});
  EXPECT_EQ(fit.default_zone, "us-east5-a");
  EXPECT_EQ(fit.unusable, std::nullopt);
  EXPECT_TRUE(mentions(fit.warnings, "spans zones us-east5-a, us-east5-b, us-east5-c")) << fit.warnings.size();
  EXPECT_TRUE(fit.auto_upgrade_off);

  fit = fit_cluster(regional(), {"us-east5-b"});
  EXPECT_EQ(fit.default_zone, "us-east5-b");
  EXPECT_TRUE(fit.warnings.empty());

  EXPECT_EQ(fit_cluster(parse_cluster({{"location", "us-east5-c"}}), {}).default_zone, "us-east5-c");
}

TEST(FitCluster, AZoneOutsideTheClusterMakesItUnusable) {
  ClusterFit fit = fit_cluster(regional(), {"us-central1-a"});
  ASSERT_TRUE(fit.unusable);
  EXPECT_NE(fit.unusable->find("us-central1-a is not one of the cluster's zones"), std::string::npos) << *fit.unusable;
}

TEST(FitCluster, AReleaseChannelClusterLeavesAutoUpgradeToGkeAndSaysSo) {
  ClusterFit fit = fit_cluster(regional("REGULAR"), {"us-east5-a"});
  EXPECT_FALSE(fit.auto_upgrade_off);
  EXPECT_EQ(fit.unusable, std::nullopt);
  EXPECT_TRUE(mentions(fit.warnings, "release channel REGULAR"));
}

TEST(PoolZone, ThePodsZoneSelectorWinsWhenTheClusterHasIt) {
  GkeCluster cluster = regional();
  ClusterFit fit = fit_cluster(cluster, {"us-east5-a"});
  testing::PodBuilder builder;
  PoolSpec spec = build_pool_spec(pod_facts(builder.build()), {}).value();
  EXPECT_EQ(pool_zone(spec, cluster, fit).value(), "us-east5-a");
  builder.extra_selector = {{kZoneSelector, "us-east5-c"}};
  EXPECT_EQ(pool_zone(build_pool_spec(pod_facts(builder.build()), {}).value(), cluster, fit).value(), "us-east5-c");
  builder.extra_selector = {{kZoneSelector, "us-west1-a"}};
  const auto zone = pool_zone(build_pool_spec(pod_facts(builder.build()), {}).value(), cluster, fit);
  ASSERT_FALSE(zone) << "no error";
  EXPECT_EQ(failure_kind(zone.error()), FailureKind::kPermanent);
  EXPECT_THAT(zone.error().message, ::testing::HasSubstr("the pod selects zone us-west1-a"));
}

}  // namespace
}  // namespace tpustack::provisioning
