#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/topology/topology_error.h"
#include "deviceplugin/discovery/node_facts.h"

namespace tpustack::deviceplugin {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using topology::Generation;
using topology::TopologyError;

const std::map<std::string, std::string> kV6eLabels = {
    {"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"},
    {"cloud.google.com/gke-tpu-topology", "4x4"},
    {"cloud.google.com/gke-accelerator-count", "4"},
};

TEST(NodeFactsTest, LabelsDescribeTheSlice) {
  const auto slice = resolve_slice(facts_from_node_labels(kV6eLabels), Generation::kV6e, 4);
  EXPECT_EQ(slice.topology().to_string(), "4x4");
  EXPECT_EQ(slice.hosts(), 4);
}

TEST(NodeFactsTest, PreferredSourceWinsFieldByField) {
  NodeFacts flags;
  flags.topology = Declared<std::string>{"2x4", "--topology"};
  const auto merged = overlay(flags, facts_from_node_labels(kV6eLabels));
  EXPECT_EQ(merged.topology->value, "2x4");
  EXPECT_EQ(merged.topology->origin, "--topology");
  EXPECT_EQ(merged.chips_per_host->value, 4);
  EXPECT_EQ(merged.accelerator->value, "tpu-v6e-slice");
}

TEST(NodeFactsTest, MismatchesNameTheirSource) {
  EXPECT_THAT([] { resolve_slice(facts_from_node_labels(kV6eLabels), Generation::kV6e, 3); },
              ThrowsMessage<TopologyError>(
                  HasSubstr("found 3 v6e chips but node label cloud.google.com/gke-accelerator-count says 4")));
  EXPECT_THAT([] { resolve_slice(facts_from_node_labels(kV6eLabels), Generation::kV5e, 4); },
              ThrowsMessage<TopologyError>(HasSubstr("cloud.google.com/gke-tpu-accelerator says 'tpu-v6e-slice'")));
  EXPECT_THAT(
      [] {
        facts_from_node_labels({{"cloud.google.com/gke-accelerator-count", "four"}});
      },
      ThrowsMessage<TopologyError>(HasSubstr("gke-accelerator-count")));
}

TEST(NodeFactsTest, WithoutTopologyTheHostIsAWholeSlice) {
  EXPECT_EQ(resolve_slice({}, Generation::kV5p, 4).topology().to_string(), "2x2x1");
  EXPECT_EQ(resolve_slice({}, Generation::kV6e, 1).topology().to_string(), "1x1");
  EXPECT_THROW(resolve_slice({}, Generation::kV6e, 3), TopologyError);
}

TEST(NodeFactsTest, DeclaredSliceForSimulatingTheNode) {
  EXPECT_EQ(declared_slice(facts_from_node_labels(kV6eLabels)).machine_type(), "ct6e-standard-4t");
  auto facts = facts_from_node_labels(kV6eLabels);
  facts.chips_per_host.reset();
  EXPECT_EQ(declared_slice(facts).chips_per_host(), 4);  // the usual VM for v6e 4x4
  facts.topology.reset();
  EXPECT_THAT([&] { declared_slice(facts); }, ThrowsMessage<TopologyError>(HasSubstr("topology is not declared")));
}

TEST(NodeFactsTest, IciResiliencyLabel) {
  const auto facts = facts_from_node_labels({{"cloud.google.com/gke-tpu-ici-resiliency", "false"}});
  EXPECT_TRUE(facts.ici_resiliency_disabled->value);
}

}  // namespace
}  // namespace tpustack::deviceplugin
