#include "extender/provisioning/gke_operation.h"

#include <gtest/gtest.h>

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

TEST(GkeOperation, OnlyDoneIsFinished) {
  for (const char* status : {"PENDING", "RUNNING", "ABORTING"}) EXPECT_FALSE(operation_finished({{"status", status}}));
  EXPECT_TRUE(operation_finished({{"status", "DONE"}}));
}

TEST(GkeOperation, ASuccessHasNoFailure) {
  EXPECT_FALSE(operation_failure({{"name", "op"}, {"status", "DONE"}}).has_value());
}

TEST(GkeOperation, ErrorCodesKeepTheirNamesAndACancelIsRetriedSoon) {
  auto cancelled = operation_failure(
      {{"name", "op"}, {"status", "DONE"}, {"error", {{"code", 1}, {"message", "Operation was cancelled."}}}});
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->peer->reason, "CANCELLED");
  EXPECT_EQ(failure_kind(*cancelled), FailureKind::kTransient);
  EXPECT_NE(cancelled->message.find("Operation was cancelled."), std::string::npos);

  auto unauthenticated = operation_failure({{"status", "DONE"}, {"error", {{"code", 16}, {"message", "token"}}}});
  EXPECT_EQ(unauthenticated->peer->reason, "UNAUTHENTICATED");
  EXPECT_EQ(failure_kind(*unauthenticated), FailureKind::kTransient);
  EXPECT_EQ(failure_kind(*operation_failure({{"status", "DONE"}, {"error", {{"code", 3}, {"message", "bad"}}}})),
            FailureKind::kPermanent);
  EXPECT_EQ(
      failure_kind(*operation_failure({{"status", "DONE"}, {"error", {{"code", 8}, {"message", "GCE_STOCKOUT"}}}})),
      FailureKind::kCapacity);
}

TEST(GkeOperation, AStatusMessageAloneIsAFailure) {
  auto failure =
      operation_failure({{"name", "op"}, {"status", "DONE"}, {"statusMessage", "ZONE_RESOURCE_POOL_EXHAUSTED"}});
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure_kind(*failure), FailureKind::kCapacity);
  EXPECT_NE(failure->message.find("ZONE_RESOURCE_POOL_EXHAUSTED"), std::string::npos);
  // An error without a message borrows the status message.
  failure = operation_failure({{"status", "DONE"}, {"statusMessage", "why"}, {"error", {{"code", 9}}}});
  EXPECT_NE(failure->message.find("why"), std::string::npos);
}

}  // namespace
}  // namespace tpustack::provisioning
