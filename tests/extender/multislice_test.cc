// Multislice all or nothing: the child Jobs of a JobSet replicated job with replicas N > 1 take their N slices
// together or wait together. Pure decisions: filter with reservation, bind, the ledger, the what-if plan.
#include <algorithm>
#include <chrono>

#include <gtest/gtest.h>

#include "extender/model/cluster_state.h"
#include "extender/model/reservation_ledger.h"
#include "extender/placement/bind_decision.h"
#include "extender/placement/multislice_unit.h"
#include "extender/placement/slice_reservation.h"
#include "extender/plan/cluster_plan.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::extender {
namespace {

using testing::add_slice;
using testing::multislice_worker;
using testing::node_names;
using testing::pod_json;
using tpustack::testing::value_of;

constexpr const char* kWaiting =
    "multislice JobSet default/train (2 slices of tpu-v6e-slice 4x4): 1 of 2 slices free; waiting for all";

class Multislice : public ::testing::Test {
 protected:
  // Every worker of both slices of JobSet "train" (2 child Jobs of 4 workers on v6e 4x4).
  void submit_train() {
    for (int slice = 0; slice < 2; ++slice) {
      for (int i = 0; i < 4; ++i) pods[slice][i] = add(slice, i);
    }
  }
  TpuPod add(int slice, int index) {
    auto pod = value_of(parse_pod(pod_json(multislice_worker("train", 2, slice, index, "tpu-v6e-slice", "4x4", 4))));
    state.upsert_pod(pod);
    return pod;
  }
  ReservingFilter filter(const TpuPod& pod) {
    names = node_names(state);  // the outcome's views point into it
    return filter_reserving(state, pod, names, std::chrono::steady_clock::now());
  }
  static std::vector<std::string> passed(const ReservingFilter& filtered) {
    return {filtered.outcome.passed.begin(), filtered.outcome.passed.end()};
  }

  ClusterState state;
  std::vector<std::string> names;
  TpuPod pods[2][4];
};

TEST(UnitMembership, ReadFromTheJobSetLabelsOnlyForMoreThanOneReplica) {
  auto member = value_of(parse_pod(pod_json(multislice_worker("train", 2, 1, 3, "tpu-v6e-slice", "4x4", 4)))).group;
  ASSERT_TRUE(member && member->unit);
  EXPECT_EQ(member->unit->key, "default/train/slice");
  EXPECT_EQ(member->unit->name, "multislice JobSet default/train");
  EXPECT_EQ(member->unit->slices, 2);
  EXPECT_EQ(member->unit->slice, 1);
  EXPECT_EQ(member->index, 3);
  EXPECT_EQ(member->key, "default/jobset-job:key-train-slice-1");

  auto single = value_of(parse_pod(pod_json(multislice_worker("train", 1, 0, 0, "tpu-v6e-slice", "4x4", 4)))).group;
  ASSERT_TRUE(single);
  EXPECT_FALSE(single->unit);

  auto huge =
      value_of(parse_pod(pod_json(multislice_worker("train", 1'000'000'000, 0, 0, "tpu-v6e-slice", "4x4", 4)))).group;
  ASSERT_TRUE(huge);
  EXPECT_FALSE(huge->unit);
  EXPECT_EQ(huge->problem,
            "jobset.sigs.k8s.io/replicatedjob-replicas 1000000000 is more slices than tpu-extender "
            "places together (4096)");

  auto beyond = value_of(parse_pod(pod_json(multislice_worker("train", 2, 2, 0, "tpu-v6e-slice", "4x4", 4)))).group;
  ASSERT_TRUE(beyond && beyond->unit);
  EXPECT_EQ(beyond->problem,
            "jobset.sigs.k8s.io/job-index '2' is not a slice of the 2 of multislice JobSet "
            "default/train");
}

TEST_F(Multislice, WithOneFreeSliceNoMemberPassesFilterOrBindAndNothingIsReserved) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  submit_train();

  for (const auto& pod : {pods[0][0], pods[1][0], pods[1][3]}) {
    auto filtered = filter(pod);
    EXPECT_TRUE(filtered.outcome.passed.empty());
    EXPECT_TRUE(filtered.reserved.empty());
    ASSERT_EQ(filtered.outcome.failed.size(), 4u);
    EXPECT_EQ(*filtered.outcome.failed.front().second, kWaiting);
  }
  EXPECT_TRUE(state.reservations().empty());  // no partial hoarding: the free slice stays free for others
  EXPECT_TRUE(state.index().slices()[0].holder.empty());

  // Bind (kube-scheduler retrying an old answer, or a restart between filter and bind) refuses too.
  auto refused = assume_bind(state, pods[0][0], "a-0");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, std::string("cannot bind default/") + pods[0][0].name + " to a-0: " + kWaiting);
  EXPECT_FALSE(state.find_pod(pods[0][0].key())->bound());
}

TEST_F(Multislice, WithTwoFreeSlicesTheFirstMemberSeenReservesBothAndEachGoesToItsOwn) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  add_slice(state, "b", "tpu-v6e-slice", "4x4", 4, 4);
  submit_train();

  // A follower of slice 1 is asked about first: both slices are reserved at once, one per child Job.
  auto first = filter(pods[1][2]);
  EXPECT_EQ(first.reserved, (Reservations{{pods[0][0].group->key, "a"}, {pods[1][0].group->key, "b"}}));
  EXPECT_EQ(first.reserved_slice, "b");
  EXPECT_EQ(passed(first), (std::vector<std::string>{"b-2"}));
  EXPECT_EQ(state.reservations().size(), 2u);

  auto leader0 = filter(pods[0][0]);
  EXPECT_TRUE(leader0.reserved.empty());
  EXPECT_EQ(passed(leader0), (std::vector<std::string>{"a-0"}));

  for (int slice = 0; slice < 2; ++slice) {
    for (int i = 0; i < 4; ++i) {
      const std::string node = std::string(slice == 0 ? "a-" : "b-") + std::to_string(i);
      auto placement = assume_bind(state, pods[slice][i], node);
      ASSERT_TRUE(placement) << node << ": " << placement.error().message;
      EXPECT_EQ(placement->worker_id, i);
      EXPECT_EQ(placement->worker_hostnames.front(), "train-slice-" + std::to_string(slice) + "-0.train");
    }
  }
}

TEST_F(Multislice, AnotherGroupCannotTakeASliceOfAUnitReservedWhole) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  add_slice(state, "b", "tpu-v6e-slice", "4x4", 4, 4);
  submit_train();
  ASSERT_EQ(filter(pods[0][0]).reserved.size(), 2u);
  auto other = value_of(parse_pod(pod_json(testing::job_worker("other", 0, "tpu-v6e-slice", "4x4", 4))));
  state.upsert_pod(other);
  EXPECT_TRUE(filter(other).outcome.passed.empty());
}

TEST_F(Multislice, AUnitWaitsUntilPodsOfAllItsSlicesAreSeen) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  add_slice(state, "b", "tpu-v6e-slice", "4x4", 4, 4);
  auto leader = add(0, 0);
  auto filtered = filter(leader);
  EXPECT_TRUE(filtered.outcome.passed.empty());
  EXPECT_TRUE(state.reservations().empty());
  EXPECT_EQ(*filtered.outcome.failed.front().second,
            "multislice JobSet default/train (2 slices of tpu-v6e-slice 4x4): pods of 1 of 2 slices seen; waiting "
            "for all");
  add(1, 0);
  EXPECT_EQ(filter(leader).reserved.size(), 2u);
}

TEST_F(Multislice, APoolCreatedForOneSliceWaitsForTheRest) {
  add_slice(state, "mine", "tpu-v6e-slice", "4x4", 4, 4);
  for (const auto& name : node_names(state)) {
    TpuNode labelled = state.nodes().at(name);
    labelled.created_for = "default/train-slice-0";  // the provisioner's pool for slice 0, slice 1's not up yet
    state.upsert_node(labelled);
  }
  submit_train();
  EXPECT_TRUE(filter(pods[0][0]).outcome.passed.empty());

  add_slice(state, "free", "tpu-v6e-slice", "4x4", 4, 4);
  auto filtered = filter(pods[0][0]);
  EXPECT_EQ(filtered.reserved, (Reservations{{pods[1][0].group->key, "free"}}));  // slice 0 holds its own pool
  EXPECT_EQ(passed(filtered), (std::vector<std::string>{"mine-0"}));
}

TEST_F(Multislice, AReleasedMemberTakesTheRestOfItsUnitWithIt) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  add_slice(state, "b", "tpu-v6e-slice", "4x4", 4, 4);
  submit_train();
  ASSERT_EQ(filter(pods[0][0]).reserved.size(), 2u);
  const GroupState& slice0 = *state.index().group(pods[0][0].group->key);
  EXPECT_EQ(released_with(slice0, state.index()), (std::vector<std::string>{pods[1][0].group->key}));
  EXPECT_FALSE(unit_broken(slice0, state.index()));

  state.release(pods[1][0].group->key);
  EXPECT_TRUE(unit_broken(*state.index().group(pods[0][0].group->key), state.index()));

  // Once a member runs, the unit was placed whole: its members go on as lone groups.
  state.release(pods[0][0].group->key);
  ASSERT_EQ(filter(pods[0][0]).reserved.size(), 2u);
  ASSERT_TRUE(assume_bind(state, pods[0][0], "a-0"));
  EXPECT_TRUE(released_with(*state.index().group(pods[0][0].group->key), state.index()).empty());
}

TEST(MultisliceLedger, AUnitsClaimsAreRecordedAllOrNone) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  ReservationLedger ledger;
  ASSERT_TRUE(ledger.claim("ml/other", "b", now).granted());

  auto refused = ledger.claim_all({{"ml/slice-0", "a"}, {"ml/slice-1", "b"}}, now);
  EXPECT_EQ(refused.kind, ClaimOutcome::Kind::kSliceTaken);
  EXPECT_EQ(refused.other, "ml/other");
  EXPECT_EQ(ledger.find("ml/slice-0"), nullptr);  // not even the claim that alone would have been granted
  EXPECT_EQ(ledger.entries().size(), 1u);

  auto granted = ledger.claim_all({{"ml/slice-0", "a"}, {"ml/slice-1", "c"}}, now);
  EXPECT_EQ(granted.kind, ClaimOutcome::Kind::kGranted);
  EXPECT_EQ(ledger.holder_of("a"), "ml/slice-0");
  EXPECT_EQ(ledger.holder_of("c"), "ml/slice-1");
  EXPECT_EQ(ledger.claim_all({{"ml/slice-0", "a"}, {"ml/slice-1", "c"}}, now).kind, ClaimOutcome::Kind::kAlreadyHeld);
}

TEST_F(Multislice, ThePlanSaysWhyTheUnitWaitsAndAsksForAPoolPerSlice) {
  add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
  submit_train();
  auto plan = plan_cluster(state);
  EXPECT_TRUE(plan.placed.empty());
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_EQ(plan.waiting[0].who, "multislice JobSet default/train");
  EXPECT_EQ(plan.waiting[0].pods.size(), 8u);
  EXPECT_EQ(plan.waiting[0].reason, kWaiting);
  ASSERT_EQ(plan.pools.size(), 2u);
  EXPECT_EQ(plan.pools[0].for_whom, "JobSet job default/train-slice-0");
  EXPECT_EQ(plan.pools[1].for_whom, "JobSet job default/train-slice-1");
  EXPECT_NE(render_plan(plan).find("multislice JobSet default/train (8 pods): " + std::string(kWaiting)),
            std::string::npos);

  add_slice(state, "b", "tpu-v6e-slice", "4x4", 4, 4);
  auto whole = plan_cluster(state);
  EXPECT_EQ(whole.placed.size(), 8u);
  EXPECT_TRUE(whole.waiting.empty());
}

}  // namespace
}  // namespace tpustack::extender
