#include "extender/provisioner/lease_elector.h"

#include <gtest/gtest.h>

#include "tests/provisioning/fake_cluster.h"
#include "tests/support/result_matchers.h"

namespace tpustack::provisioning {
namespace {

using tpustack::testing::value_of;
using namespace std::chrono_literals;

LeaseSettings lease(const std::string& identity, std::chrono::seconds duration = 15s) {
  LeaseSettings settings;
  settings.identity = identity;
  settings.duration = duration;
  return settings;
}

TEST(LeaseElector, OneReplicaLeadsAndReleasesToTheOther) {
  testing::FakeCluster cluster;
  LeaseElector a(*cluster.client, lease("a"));
  LeaseElector b(*cluster.client, lease("b"));
  EXPECT_TRUE(a.try_acquire_or_renew().leading());
  EXPECT_FALSE(b.try_acquire_or_renew().leading());
  EXPECT_TRUE(a.try_acquire_or_renew().leading());
  EXPECT_FALSE(b.try_acquire_or_renew().leading());
  auto stored = value_of(cluster.client->get(kube::resources::kLeases, "kube-system", "tpu-extender-provisioner"));
  EXPECT_EQ(stored["spec"]["holderIdentity"], "a");
  EXPECT_EQ(stored["spec"]["leaseDurationSeconds"], 15);
  a.release();
  EXPECT_TRUE(b.try_acquire_or_renew().leading());
  EXPECT_FALSE(a.try_acquire_or_renew().leading());
}

TEST(LeaseElector, SaysWhoHoldsItAndWhatTheApiAnswered) {
  testing::FakeCluster cluster;
  LeaseElector a(*cluster.client, lease("a"));
  LeaseElector b(*cluster.client, lease("b"));
  ASSERT_TRUE(a.try_acquire_or_renew().leading());
  LeaseAttempt standby = b.try_acquire_or_renew();
  EXPECT_EQ(standby.outcome, LeaseOutcome::kHeldByAnother);
  EXPECT_EQ(standby.detail, "a");

  // As the API server answers a create in a namespace that does not exist.
  cluster.server.inject({"POST", "/apis/coordination.k8s.io/v1/namespaces/nowhere/leases", 404,
                         R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound",)"
                         R"("message":"namespaces \"nowhere\" not found","code":404})"});
  LeaseSettings elsewhere = lease("c");
  elsewhere.ns = "nowhere";
  LeaseAttempt failed = LeaseElector(*cluster.client, elsewhere).try_acquire_or_renew();
  EXPECT_EQ(failed.outcome, LeaseOutcome::kFailed);
  EXPECT_NE(failed.detail.find("404 NotFound: namespaces \"nowhere\" not found"), std::string::npos) << failed.detail;
}

TEST(LeaseElector, TakesOverALeaseThatStopsBeingRenewed) {
  testing::FakeCluster cluster;
  LeaseElector a(*cluster.client, lease("a", 1s));
  LeaseElector b(*cluster.client, lease("b", 1s));
  EXPECT_TRUE(a.try_acquire_or_renew().leading());
  EXPECT_FALSE(b.try_acquire_or_renew().leading());
  std::this_thread::sleep_for(1100ms);  // a is gone and renews no more
  EXPECT_TRUE(b.try_acquire_or_renew().leading());
  auto stored = value_of(cluster.client->get(kube::resources::kLeases, "kube-system", "tpu-extender-provisioner"));
  EXPECT_EQ(stored["spec"]["holderIdentity"], "b");
  EXPECT_EQ(stored["spec"]["leaseTransitions"], 1);
}

TEST(MicroTime, HasMicroseconds) {
  auto t =
      std::chrono::system_clock::time_point{} + std::chrono::seconds(1714564800) + std::chrono::microseconds(123456);
  EXPECT_EQ(micro_time(t), "2024-05-01T12:00:00.123456Z");
}

}  // namespace
}  // namespace tpustack::provisioning
