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
  EXPECT_EQ(cancelled->rpc_status(), "CANCELLED");
  EXPECT_EQ(cancelled->kind(), FailureKind::kTransient);
  EXPECT_NE(std::string(cancelled->what()).find("Operation was cancelled."), std::string::npos);

  auto unauthenticated = operation_failure({{"status", "DONE"}, {"error", {{"code", 16}, {"message", "token"}}}});
  EXPECT_EQ(unauthenticated->rpc_status(), "UNAUTHENTICATED");
  EXPECT_EQ(unauthenticated->kind(), FailureKind::kTransient);
  EXPECT_EQ(operation_failure({{"status", "DONE"}, {"error", {{"code", 3}, {"message", "bad"}}}})->kind(),
            FailureKind::kPermanent);
  EXPECT_EQ(operation_failure({{"status", "DONE"}, {"error", {{"code", 8}, {"message", "GCE_STOCKOUT"}}}})->kind(),
            FailureKind::kCapacity);
}

TEST(GkeOperation, AStatusMessageAloneIsAFailure) {
  auto failure =
      operation_failure({{"name", "op"}, {"status", "DONE"}, {"statusMessage", "ZONE_RESOURCE_POOL_EXHAUSTED"}});
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind(), FailureKind::kCapacity);
  EXPECT_NE(std::string(failure->what()).find("ZONE_RESOURCE_POOL_EXHAUSTED"), std::string::npos);
  // An error without a message borrows the status message.
  failure = operation_failure({{"status", "DONE"}, {"statusMessage", "why"}, {"error", {{"code", 9}}}});
  EXPECT_NE(std::string(failure->what()).find("why"), std::string::npos);
}

}  // namespace
}  // namespace tpustack::provisioning
