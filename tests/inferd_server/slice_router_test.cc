// The leader's decisions over a slice (inferd/slice): where each unit of work goes, who is out and when it is probed.
#include "inferd/slice/slice_router.h"

#include <gtest/gtest.h>

#include <map>

#include "inferd/slice/worker_addresses.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::slice {
namespace {

using std::chrono::milliseconds;
using tpustack::testing::value_of;

// No jitter: the probe times are exact.
const retry::Backoff::Policy kPolicy{milliseconds(100), milliseconds(400), 2.0, 0.0};

SliceRouter four_workers() { return SliceRouter({"w0:1", "w1:1", "w2:1", "w3:1"}, 0, kPolicy, 7); }

TEST(WorkerAddresses, BareHostsTakeTheOwnPortAndHostPortsStay) {
  EXPECT_EQ(value_of(worker_addresses("inferd-0.inferd,inferd-1.inferd", 50051)),
            (std::vector<std::string>{"inferd-0.inferd:50051", "inferd-1.inferd:50051"}));
  EXPECT_EQ(value_of(worker_addresses("127.0.0.1:7001,127.0.0.1:7002,[::1]:7003,[::1],fe80::1", 9)),
            (std::vector<std::string>{"127.0.0.1:7001", "127.0.0.1:7002", "[::1]:7003", "[::1]:9", "[fe80::1]:9"}));
  EXPECT_EQ(value_of(worker_addresses("localhost", 50051)), (std::vector<std::string>{"localhost:50051"}));
}

TEST(WorkerAddresses, EmptyEntriesAndBadPortsAreErrors) {
  EXPECT_FALSE(worker_addresses("a,,b", 1));
  EXPECT_FALSE(worker_addresses("a:http", 1));
  EXPECT_FALSE(worker_addresses("a:70000", 1));
  EXPECT_FALSE(worker_addresses(":80", 1));
  EXPECT_FALSE(worker_addresses("[::1]x", 1));
}

TEST(SliceRouter, EqualQueuesTakeTurnsRoundTheSlice) {
  SliceRouter router = four_workers();
  std::map<size_t, int> units;
  for (int i = 0; i < 40; ++i) {
    const size_t worker = router.choose(2);
    ++units[worker];
    router.finished(worker, 2);
  }
  EXPECT_EQ(units, (std::map<size_t, int>{{0, 10}, {1, 10}, {2, 10}, {3, 10}}));
  for (const WorkerStatus& w : router.workers()) EXPECT_EQ(w.units, 10u);
}

TEST(SliceRouter, TheShortestQueueGetsTheNextUnit) {
  SliceRouter router = four_workers();
  // The leader (0) takes 8 sequences, 1 takes 4, 2 takes 1, in turn while the queues are equal.
  ASSERT_EQ(router.choose(8), 0u);
  ASSERT_EQ(router.choose(4), 1u);
  ASSERT_EQ(router.choose(1), 2u);
  EXPECT_EQ(router.choose(1), 3u);  // empty
  EXPECT_EQ(router.choose(1), 2u);  // 2 and 3 hold one each: 2 comes first in the turn
  EXPECT_EQ(router.choose(1), 3u);
  const auto queues = router.workers();
  EXPECT_EQ(queues[0].outstanding, 8u);
  EXPECT_EQ(queues[1].outstanding, 4u);
  EXPECT_EQ(queues[2].outstanding, 2u);
  EXPECT_EQ(queues[3].outstanding, 2u);
  router.finished(0, 8);
  EXPECT_EQ(router.choose(1), 0u);  // its own queue emptied: the leader is the shortest again
}

TEST(SliceRouter, AFailedWorkerIsOutUntilAProbeAfterTheBackoffFindsItServing) {
  SliceRouter router = four_workers();
  const Clock::time_point t0{};
  router.choose(1);
  const size_t one = router.choose(1);
  ASSERT_EQ(one, 1u);
  router.failed(1, 1, "gRPC 14: Connection refused", false, t0);
  WorkerStatus out = router.workers()[1];
  EXPECT_FALSE(out.serving);
  EXPECT_STREQ(out.state(), "out");
  EXPECT_EQ(out.last_error, "gRPC 14: Connection refused");
  EXPECT_EQ(out.outstanding, 0u);
  EXPECT_EQ(out.retry_at, t0 + milliseconds(100));
  EXPECT_EQ(out.retry_in_ms(t0 + milliseconds(30)), 70u);
  // Skipped while out.
  for (int i = 0; i < 12; ++i) EXPECT_NE(router.choose(0), 1u);
  // Another call in flight when it fell fails too: no second backoff step.
  router.failed(1, 0, "gRPC 14: Socket closed", false, t0 + milliseconds(5));
  EXPECT_EQ(router.workers()[1].retry_at, t0 + milliseconds(100));

  EXPECT_TRUE(router.probes_due(t0 + milliseconds(99)).empty());
  EXPECT_EQ(router.probes_due(t0 + milliseconds(100)), std::vector<size_t>{1});
  EXPECT_TRUE(router.probes_due(t0 + milliseconds(150)).empty()) << "one probe at a time";
  router.probed(1, "gRPC 14: Connection refused", t0 + milliseconds(110));
  EXPECT_EQ(router.workers()[1].retry_at, t0 + milliseconds(310));  // the backoff doubled
  EXPECT_EQ(router.probes_due(t0 + milliseconds(310)), std::vector<size_t>{1});
  router.probed(1, std::nullopt, t0 + milliseconds(320));
  EXPECT_TRUE(router.workers()[1].serving);
  EXPECT_EQ(router.workers()[1].last_error, "");
  // Back in the turns, and the next failure starts the backoff afresh.
  bool chosen = false;
  for (int i = 0; i < 4; ++i) chosen |= router.choose(0) == 1u;
  EXPECT_TRUE(chosen);
  router.failed(1, 0, "gRPC 4: Deadline Exceeded", false, t0 + milliseconds(1000));
  EXPECT_EQ(router.workers()[1].retry_at, t0 + milliseconds(1100));
}

TEST(SliceRouter, AUnitThatFailedGoesElsewhereAndTheLeaderTakesWhatNobodyElseCan) {
  SliceRouter router = four_workers();
  EXPECT_EQ(router.choose(1, {0, 1, 2, 3}), 0u) << "the leader is never excluded";
  EXPECT_NE(router.choose(1, {1}), 1u);
  const Clock::time_point t0{};
  for (size_t i = 1; i < 4; ++i) router.failed(i, 0, "down", false, t0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(router.choose(1), 0u);
  router.failed(0, 5, "the leader's own failure is its client's answer", false, t0);
  EXPECT_TRUE(router.workers()[0].serving);
}

TEST(SliceRouter, AFullQueueSendsTheUnitElsewhereButLeavesTheWorkerIn) {
  SliceRouter router = four_workers();
  router.choose(3);
  ASSERT_EQ(router.choose(3), 1u);
  router.failed(1, 3, "gRPC 8: the queue is full", true, Clock::time_point{});
  EXPECT_TRUE(router.workers()[1].serving);
  EXPECT_EQ(router.workers()[1].outstanding, 0u);
}

TEST(SliceRouter, FollowersStartOutAndAreProbedAtOnce) {
  SliceRouter router = four_workers();
  const Clock::time_point t0{};
  for (size_t i = 0; i < 4; ++i) router.start_out(i, "not reached yet", t0);
  EXPECT_TRUE(router.workers()[0].serving) << "the leader is never out";
  EXPECT_EQ(router.probes_due(t0), (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(router.choose(1), 0u);
}

}  // namespace
}  // namespace tpustack::inferd::slice
