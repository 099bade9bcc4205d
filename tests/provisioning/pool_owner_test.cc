#include "extender/provisioning/pool_owner.h"

#include <gtest/gtest.h>

#include "extender/provisioning/pool_spec.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

json with_condition(const std::string& type, const std::string& status) {
  return {{"metadata", {{"name", "x"}}}, {"status", {{"conditions", {{{"type", type}, {"status", status}}}}}}};
}

TEST(OwnerState, EachControllerEndsWithItsOwnConditions) {
  EXPECT_EQ(owner_state(OwnerKind::kJobSet, with_condition("Completed", "True")), OwnerState::kFinished);
  EXPECT_EQ(owner_state(OwnerKind::kJobSet, with_condition("Failed", "True")), OwnerState::kFinished);
  EXPECT_EQ(owner_state(OwnerKind::kJob, with_condition("Complete", "True")), OwnerState::kFinished);
  EXPECT_EQ(owner_state(OwnerKind::kJob, with_condition("Failed", "True")), OwnerState::kFinished);
  // A JobSet has no "Complete", a Job no "Completed"; a condition not True, or none at all, ends nothing.
  EXPECT_EQ(owner_state(OwnerKind::kJobSet, with_condition("Complete", "True")), OwnerState::kActive);
  EXPECT_EQ(owner_state(OwnerKind::kJob, with_condition("Completed", "True")), OwnerState::kActive);
  EXPECT_EQ(owner_state(OwnerKind::kJobSet, with_condition("Failed", "False")), OwnerState::kActive);
  EXPECT_EQ(owner_state(OwnerKind::kJob, {{"metadata", {{"name", "x"}}}}), OwnerState::kActive);
  for (const json& garbled : {json{{"status", "x"}}, json{{"status", {{"conditions", "x"}}}},
                              json{{"status", {{"conditions", {1, "a", {{"type", 7}}}}}}}, json::array()}) {
    EXPECT_EQ(owner_state(OwnerKind::kJob, garbled), OwnerState::kActive) << garbled;
  }
}

PoolState owned_by(const std::string& kind, const std::string& ns, const std::string& name) {
  PoolState pool;
  pool.name = "p";
  if (!kind.empty()) pool.labels[kOwnerKindLabel] = kind;
  if (!ns.empty()) pool.labels[std::string(kGroupNamespaceLabel)] = ns;
  if (!name.empty()) pool.labels[kOwnerNameLabel] = name;
  return pool;
}

TEST(EventTarget, TheOwnerTheLabelsNameElseItsNamespace) {
  EXPECT_EQ(event_target(owned_by("JobSet", "ml", "train")),
            (json{{"apiVersion", "jobset.x-k8s.io/v1alpha2"},
                  {"kind", "JobSet"},
                  {"metadata", {{"namespace", "ml"}, {"name", "train"}}}}));
  EXPECT_EQ(event_target(owned_by("Job", "ml", "j"))["apiVersion"], "batch/v1");
  EXPECT_EQ(event_target(owned_by("StatefulSet", "web", "s"))["apiVersion"], "apps/v1");
  EXPECT_EQ(event_target(owned_by("ReplicaSet", "web", "r"))["kind"], "ReplicaSet");
  EXPECT_EQ(event_target(owned_by("Pod", "web", "bare"))["apiVersion"], "v1");
  // Groups of labelled pods (owner kind "Pods"), kinds we cannot name, orphans: the namespace hears of it.
  const json namespace_ml = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "ml"}}}};
  EXPECT_EQ(event_target(owned_by("Pods", "ml", "g")), namespace_ml);
  EXPECT_EQ(event_target(owned_by("Deployment", "ml", "d")), namespace_ml);
  EXPECT_EQ(event_target(owned_by("JobSet", "ml", "")), namespace_ml);
  EXPECT_EQ(event_target(owned_by("", "", ""))["metadata"]["name"], "default");
}

}  // namespace
}  // namespace tpustack::provisioning
