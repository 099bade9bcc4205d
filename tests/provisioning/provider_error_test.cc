#include "extender/provisioning/provider_error.h"

#include <gtest/gtest.h>

namespace tpustack::provisioning {
namespace {

TEST(ClassifyFailure, GkeConcurrencyLimitsAndServerErrorsAreTransient) {
  EXPECT_EQ(classify_failure(400, "FAILED_PRECONDITION", "Cluster is running incompatible operation operation-1"),
            FailureKind::kTransient);
  EXPECT_EQ(classify_failure(429, "RESOURCE_EXHAUSTED",
                             "Too many operations: cluster c hits the concurrent operations quota 5"),
            FailureKind::kTransient);
  EXPECT_EQ(classify_failure(503, "UNAVAILABLE", "backend"), FailureKind::kTransient);
  EXPECT_EQ(classify_failure(0, "", "timed out"), FailureKind::kTransient);
}

// GKE's answers while another operation runs on the cluster, word for word.
TEST(ClassifyFailure, ABusyClusterIsTransient) {
  for (const char* message :
       {"Operation operation-1712345678901-abcdef is currently deleting a node pool for cluster tpu. Please wait and "
        "try again once it is done.",
        "Operation operation-1712345678901-abcdef is currently upgrading cluster tpu. Please wait and try again once "
        "it "
        "is done.",
        "Cluster is currently being created, deleted, updated or repaired and cannot be updated."}) {
    EXPECT_EQ(classify_failure(400, "FAILED_PRECONDITION", message), FailureKind::kTransient) << message;
  }
}

TEST(ClassifyFailure, ACancelledOperationAndARefusedTokenAreTransient) {
  EXPECT_EQ(classify_failure(200, "CANCELLED", "Operation was cancelled."), FailureKind::kTransient);
  EXPECT_EQ(classify_failure(200, "UNAUTHENTICATED", "token expired"), FailureKind::kTransient);
  EXPECT_EQ(classify_failure(401, "", "Request had invalid authentication credentials."), FailureKind::kTransient);
}

TEST(RpcStatusName, NamesEveryGoogleRpcCode) {
  EXPECT_EQ(rpc_status_name(1), "CANCELLED");
  EXPECT_EQ(rpc_status_name(9), "FAILED_PRECONDITION");
  EXPECT_EQ(rpc_status_name(16), "UNAUTHENTICATED");
  EXPECT_EQ(rpc_status_name(42), "UNKNOWN");
}

TEST(ClassifyFailure, StockoutAndQuotaAreCapacity) {
  EXPECT_EQ(classify_failure(200, "", "GCE_STOCKOUT: The zone does not have enough resources"), FailureKind::kCapacity);
  EXPECT_EQ(classify_failure(403, "", "Quota 'TPU_V6E' exceeded. Limit: 16.0 in region"), FailureKind::kCapacity);
  EXPECT_EQ(classify_failure(200, "", "ZONE_RESOURCE_POOL_EXHAUSTED"), FailureKind::kCapacity);
}

TEST(ClassifyFailure, EverythingElseIsPermanent) {
  EXPECT_EQ(classify_failure(400, "INVALID_ARGUMENT", "resource policy wp-2x2x2 not found"), FailureKind::kPermanent);
  EXPECT_EQ(classify_failure(403, "PERMISSION_DENIED", "container.clusters.update denied"), FailureKind::kPermanent);
  const Error error = provider_error(429, "", "slow down");
  EXPECT_EQ(failure_kind(error), FailureKind::kTransient);
  EXPECT_EQ(error.peer->http_status, 429);
  EXPECT_EQ(error.message, "slow down");
  EXPECT_EQ(failure_kind(Error{"not an answer"}), FailureKind::kPermanent);
}

}  // namespace
}  // namespace tpustack::provisioning
