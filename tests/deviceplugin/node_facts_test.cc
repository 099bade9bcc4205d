#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deviceplugin/discovery/node_facts.h"

namespace tpustack::deviceplugin {
namespace {

using ::testing::HasSubstr;
using topology::Generation;

const std::map<std::string, std::string> kV6eLabels = {
    {"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"},
    {"cloud.google.com/gke-tpu-topology", "4x4"},
    {"cloud.google.com/gke-accelerator-count", "4"},
};

const NodeFacts kV6eFacts = facts_from_node_labels(kV6eLabels).value();

// The Error's message, or "no error".
template <class T>
std::string refusal(const Result<T>& result) {
  return result ? "no error" : result.error().message;
}

TEST(NodeFactsTest, LabelsDescribeTheSlice) {
  const auto slice = resolve_slice(kV6eFacts, Generation::kV6e, 4).value();
  EXPECT_EQ(slice.topology().to_string(), "4x4");
  EXPECT_EQ(slice.hosts(), 4);
}

TEST(NodeFactsTest, PreferredSourceWinsFieldByField) {
  NodeFacts flags;
  flags.topology = Declared<std::string>{"2x4", "--topology"};
  const auto merged = overlay(flags, kV6eFacts);
  EXPECT_EQ(merged.topology->value, "2x4");
  EXPECT_EQ(merged.topology->origin, "--topology");
  EXPECT_EQ(merged.chips_per_host->value, 4);
  EXPECT_EQ(merged.accelerator->value, "tpu-v6e-slice");
}

TEST(NodeFactsTest, MismatchesNameTheirSource) {
  EXPECT_THAT(refusal(resolve_slice(kV6eFacts, Generation::kV6e, 3)),
              HasSubstr("found 3 v6e chips but node label cloud.google.com/gke-accelerator-count says 4"));
  EXPECT_THAT(refusal(resolve_slice(kV6eFacts, Generation::kV5e, 4)),
              HasSubstr("cloud.google.com/gke-tpu-accelerator says 'tpu-v6e-slice'"));
  EXPECT_THAT(refusal(facts_from_node_labels({{"cloud.google.com/gke-accelerator-count", "four"}})),
              HasSubstr("gke-accelerator-count: chips per host must be a positive number, got 'four'"));
  NodeFacts bad_topology = kV6eFacts;
  bad_topology.topology->value = "3x3";
  EXPECT_THAT(refusal(resolve_slice(bad_topology, Generation::kV6e, 4)),
              HasSubstr("node label cloud.google.com/gke-tpu-topology: topology '3x3' is not a v6e slice shape"));
}

TEST(NodeFactsTest, WithoutTopologyTheHostIsAWholeSlice) {
  EXPECT_EQ(resolve_slice({}, Generation::kV5p, 4)->topology().to_string(), "2x2x1");
  EXPECT_EQ(resolve_slice({}, Generation::kV6e, 1)->topology().to_string(), "1x1");
  EXPECT_THAT(refusal(resolve_slice({}, Generation::kV6e, 3)), HasSubstr("found 3 v6e chips and no declared topology"));
}

TEST(NodeFactsTest, DeclaredSliceForSimulatingTheNode) {
  EXPECT_EQ(declared_slice(kV6eFacts)->machine_type(), "ct6e-standard-4t");
  auto facts = kV6eFacts;
  facts.chips_per_host.reset();
  EXPECT_EQ(declared_slice(facts)->chips_per_host(), 4);  // the usual VM for v6e 4x4
  facts.topology.reset();
  EXPECT_THAT(refusal(declared_slice(facts)), HasSubstr("topology is not declared"));
}

TEST(NodeFactsTest, IciResiliencyLabel) {
  const auto facts = facts_from_node_labels({{"cloud.google.com/gke-tpu-ici-resiliency", "false"}});
  EXPECT_TRUE(facts->ici_resiliency_disabled->value);
}

}  // namespace
}  // namespace tpustack::deviceplugin
