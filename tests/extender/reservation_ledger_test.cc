// The rules of the reservation ledger the replicas share (no I/O), and how a replica's model reads its copy.
#include <chrono>

#include <gtest/gtest.h>

#include "extender/model/cluster_state.h"
#include "extender/model/reservation_ledger.h"
#include "extender/placement/node_judge.h"
#include "extender/placement/slice_reservation.h"
#include "tests/extender/cluster_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::extender {
namespace {

using tpustack::testing::value_of;
using namespace std::chrono_literals;
using Kind = ClaimOutcome::Kind;
using testing::add_slice;
using testing::job_worker;
using testing::pod_json;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

TEST(ReservationLedger, AFreeSliceGoesToTheFirstGroupAndToNoOther) {
  ReservationLedger ledger;
  EXPECT_EQ(ledger.claim("ml/a", "slice-1", kNow).kind, Kind::kGranted);
  auto taken = ledger.claim("ml/b", "slice-1", kNow);
  EXPECT_EQ(taken.kind, Kind::kSliceTaken);
  EXPECT_EQ(taken.other, "ml/a");
  EXPECT_FALSE(taken.granted());
  EXPECT_EQ(ledger.holder_of("slice-1"), "ml/a");
  EXPECT_EQ(ledger.entries().size(), 1u);
}

TEST(ReservationLedger, AGroupKeepsTheSliceItHoldsAndGetsNoSecondOne) {
  ReservationLedger ledger;
  ASSERT_TRUE(ledger.claim("ml/a", "slice-1", kNow).granted());
  auto again = ledger.claim("ml/a", "slice-1", kNow + 5s);
  EXPECT_EQ(again.kind, Kind::kAlreadyHeld);
  EXPECT_TRUE(again.granted());
  EXPECT_EQ(ledger.find("ml/a")->since, kNow);  // not renewed by a second member's claim
  auto other = ledger.claim("ml/a", "slice-2", kNow);
  EXPECT_EQ(other.kind, Kind::kGroupHoldsAnother);
  EXPECT_EQ(other.other, "slice-1");
  EXPECT_EQ(ledger.holder_of("slice-2"), "");
}

TEST(ReservationLedger, AReleaseDecidedOnAnOlderCopyLeavesANewerPromise) {
  ReservationLedger ledger;
  ledger.claim("ml/a", "slice-1", kNow);
  const LedgerEntry seen = *ledger.find("ml/a");
  ASSERT_TRUE(ledger.release("ml/a", seen));
  // Meanwhile the group claimed again (another replica): the old decision must not drop that.
  ledger.claim("ml/a", "slice-1", kNow + 1min);
  EXPECT_FALSE(ledger.release("ml/a", seen));
  EXPECT_FALSE(ledger.release("ml/a", LedgerEntry{"slice-2", kNow + 1min}));
  EXPECT_EQ(ledger.holder_of("slice-1"), "ml/a");
  EXPECT_FALSE(ledger.release("ml/nobody", seen));
}

TEST(ReservationLedger, NewerCopiesAreRecognisedByResourceVersion) {
  EXPECT_TRUE(ReservationLedger({}, "10").newer_than(ReservationLedger({}, "9")));
  EXPECT_FALSE(ReservationLedger({}, "9").newer_than(ReservationLedger({}, "10")));
  EXPECT_FALSE(ReservationLedger({}, "9").newer_than(ReservationLedger({}, "9")));
  EXPECT_TRUE(ReservationLedger({}, "1").newer_than(ReservationLedger()));  // absent: older than any
  EXPECT_FALSE(ReservationLedger().newer_than(ReservationLedger({}, "1")));
}

TEST(ReservationLedger, OnlyEntriesOfGroupsSeenLeavingOrLongUnseenAreAbandoned) {
  const LedgerEntry fresh{"slice-1", kNow - 5s};
  EXPECT_FALSE(abandoned(fresh, false, kNow, 60s)) << "another replica's reservation, pods not here yet";
  EXPECT_TRUE(abandoned(fresh, true, kNow, 60s)) << "this replica saw the group's pods go";
  EXPECT_TRUE(abandoned(LedgerEntry{"slice-1", kNow - 61s}, false, kNow, 60s));
}

// A replica's model with a mirrored ledger: two v6e 4x4 slices, "a" and "b".
class MirroredReservations : public ::testing::Test {
 protected:
  void SetUp() override {
    add_slice(state, "a", "tpu-v6e-slice", "4x4", 4, 4);
    add_slice(state, "b", "tpu-v6e-slice", "4x4", 4, 4);
  }
  std::vector<std::string> nodes() { return testing::node_names(state); }
  std::vector<std::string> passed(const TpuPod& pod) {
    // The outcome's names view into the list it was given, which must outlive them (a temporary in the for
    // statement would not: ASan found it).
    const std::vector<std::string> candidates = nodes();
    std::vector<std::string> names;
    for (auto name : filter_nodes(analyze_pod(pod, state.index()), state.index(), candidates).passed) {
      names.emplace_back(name);
    }
    return names;
  }
  ClusterState state;
};

TEST_F(MirroredReservations, AReservationOfAGroupWithNoPodHereYetStillHoldsItsSlice) {
  state.mirror_reservations({{"default/job:elsewhere", {"a", std::chrono::steady_clock::now()}}});
  auto pod = value_of(parse_pod(pod_json(job_worker("here", 0, "tpu-v6e-slice", "4x4", 4))));
  state.upsert_pod(pod);
  EXPECT_EQ(passed(pod), (std::vector<std::string>{"b-0"}));
  EXPECT_EQ(state.index().slices()[state.index().slice_named("a")].holder, "default/job:elsewhere");
  // The mirror is kept as the ledger has it: only the ledger's writers drop entries.
  EXPECT_EQ(state.reservations().size(), 1u);
}

TEST_F(MirroredReservations, InMemoryAReservationOfAGroupWhosePodsAreGoneIsDropped) {
  auto pod = value_of(parse_pod(pod_json(job_worker("gone", 0, "tpu-v6e-slice", "4x4", 4))));
  state.upsert_pod(pod);
  ASSERT_EQ(filter_reserving(state, pod, nodes(), std::chrono::steady_clock::now()).reserved_slice, "a");
  state.remove_pod(pod.key());
  auto other = value_of(parse_pod(pod_json(job_worker("next", 0, "tpu-v6e-slice", "4x4", 4))));
  state.upsert_pod(other);
  EXPECT_EQ(passed(other), (std::vector<std::string>{"a-0", "b-0"}));
  EXPECT_TRUE(state.reservations().empty());
}

}  // namespace
}  // namespace tpustack::extender
