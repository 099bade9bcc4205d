// What tpu-extender tells the cluster after its answers change (ExtenderService::upkeep): which parked pods
// to nudge so that kube-scheduler retries them now, and which reservations to release with an Event.
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/service/extender_service.h"
#include "tests/extender/cluster_fixture.h"

namespace tpustack::extender {
namespace {

using namespace std::chrono_literals;
using testing::job_worker;
using testing::node_json;
using testing::pod_json;
using testing::PodFields;
using Clock = std::chrono::steady_clock;
using ::testing::Contains;
using ::testing::Field;

struct NoBinder : PodBinder {
  Result<void> bind(const std::string&, const std::string&, const std::string&, const std::string&,
                    const StringMap&) override {
    return {};
  }
};

class ReservationUpkeepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 4; ++i) service.apply_node(node_json("s-" + std::to_string(i), "tpu-v6e-slice", "4x4", "s", 4));
    service.set_synced();
  }
  PodFields worker(const std::string& job, int index) { return job_worker(job, index, "tpu-v6e-slice", "4x4", 4); }
  // The scheduler's filter for the pod over every node; the nodes that passed.
  nlohmann::json filter(const PodFields& pod) {
    service.apply_pod(pod_json(pod));
    nlohmann::json args = {{"Pod", pod_json(pod)}, {"NodeNames", {"s-0", "s-1", "s-2", "s-3"}}};
    return nlohmann::json::parse(service.filter(args.dump()).body)["NodeNames"];
  }

  NoBinder binder;
  metrics::MetricsRegistry registry;
  ExtenderService service{binder, registry};
};

TEST_F(ReservationUpkeepTest, AGroupThatDoesNotArriveWithinTheTimeoutLosesItsSliceWithAnEvent) {
  EXPECT_EQ(filter(worker("slow", 1)), nlohmann::json::array({"s-1"}));  // reserves slice s for "slow"
  EXPECT_TRUE(filter(worker("other", 0)).empty());                       // parked: s is slow's

  const auto now = Clock::now();
  EXPECT_TRUE(service.upkeep(now + 9min, 10min).notices.empty());
  auto upkeep = service.upkeep(now + 11min, 10min);
  ASSERT_EQ(upkeep.notices.size(), 1u);
  EXPECT_EQ(upkeep.notices[0].reason, "GroupIncomplete");
  EXPECT_EQ(upkeep.notices[0].message,
            "released slice s: only 1 of 4 pods of Job default/slow arrived within the group timeout; pods arriving "
            "later start over");
  ASSERT_EQ(upkeep.notices[0].pods.size(), 1u);
  EXPECT_EQ(upkeep.notices[0].pods[0].name, "slow-1-x7k2p");
  // The waiting group fits now, and is told so at once (beside slow-1, accepted long ago and never bound).
  EXPECT_THAT(upkeep.nudge, Contains(Field(&ExtenderService::PodRef::name, "other-0-x7k2p")));
  EXPECT_EQ(filter(worker("other", 0)), nlohmann::json::array({"s-0"}));
}

TEST_F(ReservationUpkeepTest, ATimeoutOfZeroNeverReleases) {
  filter(worker("slow", 1));
  EXPECT_TRUE(service.upkeep(Clock::now() + 24h, 0s).notices.empty());
}

TEST_F(ReservationUpkeepTest, AWaitingGroupIsNudgedOnceWhenTheSliceItNeedsIsFreed) {
  std::vector<PodFields> running;
  for (int i = 0; i < 4; ++i) {
    PodFields pod = worker("first", i);
    pod.node = "s-" + std::to_string(i);
    service.apply_pod(pod_json(pod));
    running.push_back(pod);
  }
  EXPECT_TRUE(filter(worker("second", 2)).empty());
  const auto now = Clock::now();
  EXPECT_TRUE(service.upkeep(now, 10min).nudge.empty());

  // The first group finished and its pods are gone: kube-scheduler would not retry "second" for minutes.
  for (const auto& pod : running) service.delete_pod(pod_json(pod));
  auto upkeep = service.upkeep(now + 1s, 10min);
  ASSERT_EQ(upkeep.nudge.size(), 1u);
  EXPECT_EQ(upkeep.nudge[0].name, "second-2-x7k2p");
  ASSERT_EQ(upkeep.nudged.size(), 1u);  // one log line per group
  EXPECT_EQ(upkeep.nudged[0].group, "Job default/second");
  // Nothing changed since: no second nudge.
  EXPECT_TRUE(service.upkeep(now + 3s, 10min).nudge.empty());
}

TEST_F(ReservationUpkeepTest, APodOfAnotherSchedulerOnAReservedSliceCostsTheGroupItsReservation) {
  filter(worker("train", 3));
  PodFields intruder = testing::single_pod("intruder", "tpu-v6e-slice", "", 1, "s-2");
  service.apply_pod(pod_json(intruder));
  auto upkeep = service.upkeep(Clock::now(), 10min);
  ASSERT_EQ(upkeep.notices.size(), 1u);
  EXPECT_EQ(upkeep.notices[0].reason, "SliceLost");
  EXPECT_EQ(upkeep.notices[0].message,
            "tpu-extender re-places Job default/train: slice s has 1 chips taken by pods outside Job default/train");
  EXPECT_TRUE(upkeep.notices[0].warning);
  // Re-placed: no free slice is left, so it waits rather than sharing s.
  EXPECT_TRUE(filter(worker("train", 3)).empty());
}

TEST_F(ReservationUpkeepTest, APodParkedWithoutAskingTheExtenderIsNudgedOnceItsPoolIsReady) {
  // kube-scheduler found no node of the right shape (its own filters) and never asked the extender; the
  // provisioner is making a pool. The pod carries PodScheduled=False reason Unschedulable.
  auto pod = pod_json(testing::single_pod("waiting", "tpu-v5-lite-podslice", "2x2", 4, ""));
  pod["status"]["conditions"] = {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
  service.apply_pod(pod);
  const auto now = Clock::now();
  EXPECT_TRUE(service.upkeep(now, 10min).nudge.empty());
  service.apply_node(node_json("v5e-0", "tpu-v5-lite-podslice", "2x2", "v5e-pool", 4));
  auto upkeep = service.upkeep(now + 1s, 10min);
  ASSERT_EQ(upkeep.nudge.size(), 1u);
  EXPECT_EQ(upkeep.nudge[0].name, "waiting");
}

TEST_F(ReservationUpkeepTest, APodWhoseAttemptFailedOnAnErrorIsNudgedAtOnceEvenWhereNothingFits) {
  // kube-scheduler asked the extender while it was away (or a bind failed): PodScheduled=False reason
  // SchedulerError. Before 1.28 such a pod is parked for 5 minutes; this extender, back, has it retried now, fit or
  // not, so that its next attempt gets a real answer (a node, or Unschedulable for the provisioner).
  auto errored = pod_json(testing::single_pod("errored", "tpu-v5-lite-podslice", "2x2", 4, ""));
  errored["status"]["conditions"] = {{{"type", "PodScheduled"},
                                      {"status", "False"},
                                      {"reason", "SchedulerError"},
                                      {"message", "Post \"http://tpu-extender/filter\": connection refused"}}};
  auto unschedulable = pod_json(testing::single_pod("unschedulable", "tpu-v5-lite-podslice", "2x2", 4, ""));
  unschedulable["status"]["conditions"] = {
      {{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
  service.apply_pod(errored);
  service.apply_pod(unschedulable);
  const auto now = Clock::now();
  auto upkeep = service.upkeep(now, 10min);
  ASSERT_EQ(upkeep.nudge.size(), 1u);
  EXPECT_EQ(upkeep.nudge[0].name, "errored");
  ASSERT_EQ(upkeep.nudged.size(), 1u);
  EXPECT_EQ(upkeep.nudged[0].message, "its last scheduling attempt failed");
  // Still failing on errors: nudged again after the retry backoff, not on every upkeep.
  EXPECT_TRUE(service.upkeep(now + 2s, 10min).nudge.empty());
  EXPECT_EQ(service.upkeep(now + 6s, 10min).nudge.size(), 1u);
  // Its next attempt found no node: it waits for one like any unschedulable pod.
  errored["status"]["conditions"][0]["reason"] = "Unschedulable";
  service.apply_pod(errored);
  EXPECT_TRUE(service.upkeep(now + 20s, 10min).nudge.empty());
}

TEST_F(ReservationUpkeepTest, APodTheSchedulerSawBeforeOurInformerIsReservedForAndBound) {
  // The scheduler's watch is ahead of ours: the pod exists only in the filter request.
  auto pod = pod_json(worker("early", 2));
  nlohmann::json args = {{"Pod", pod}, {"NodeNames", {"s-0", "s-1", "s-2", "s-3"}}};
  EXPECT_EQ(nlohmann::json::parse(service.filter(args.dump()).body)["NodeNames"], nlohmann::json::array({"s-2"}));
  // The reservation holds for the group although no informer event has come yet.
  EXPECT_TRUE(filter(worker("other", 0)).empty());
  nlohmann::json binding = {{"PodName", "early-2-x7k2p"}, {"PodNamespace", "default"}, {"Node", "s-2"}};
  EXPECT_EQ(nlohmann::json::parse(service.bind(binding.dump()).body)["Error"], "");
}

TEST_F(ReservationUpkeepTest, AChangeWithinTheNudgeIntervalIsNotLost) {
  // Nudged early (the pool's nodes appeared), then the pod failed the scheduler's own checks again; the change
  // that makes it fit comes less than a second later, and nothing changes after it.
  auto pod = pod_json(testing::single_pod("early", "tpu-v5-lite-podslice", "2x2", 4, ""));
  pod["status"]["conditions"] = {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
  service.apply_pod(pod);
  service.apply_node(node_json("v5e-0", "tpu-v5-lite-podslice", "2x2", "v5e-pool", 4));
  const auto now = Clock::now();
  ASSERT_EQ(service.upkeep(now, 10min).nudge.size(), 1u);
  service.apply_node(node_json("v5e-0", "tpu-v5-lite-podslice", "2x2", "v5e-pool", 4));  // e.g. Ready again
  EXPECT_TRUE(service.upkeep(now + 200ms, 10min).nudge.empty());  // too soon: deferred, not dropped
  EXPECT_EQ(service.upkeep(now + 1200ms, 10min).nudge.size(), 1u);
}

TEST_F(ReservationUpkeepTest, APodNudgedButStillParkedIsNudgedAgainLaterWithoutAChange) {
  // The nudge's retry was lost (its bind went to a replica being killed): nothing changes after it, and
  // kube-scheduler would leave the pod parked for 5 minutes.
  auto pod = pod_json(testing::single_pod("lost", "tpu-v5-lite-podslice", "2x2", 4, ""));
  pod["status"]["conditions"] = {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
  service.apply_pod(pod);
  service.apply_node(node_json("v5e-0", "tpu-v5-lite-podslice", "2x2", "v5e-pool", 4));
  const auto now = Clock::now();
  ASSERT_EQ(service.upkeep(now, 10min).nudge.size(), 1u);
  EXPECT_TRUE(service.upkeep(now + 3s, 10min).nudge.empty());
  EXPECT_EQ(service.upkeep(now + 5s, 10min).nudge.size(), 1u);
  EXPECT_TRUE(service.upkeep(now + 12s, 10min).nudge.empty());  // backing off: 10 s after the second
  EXPECT_EQ(service.upkeep(now + 15s, 10min).nudge.size(), 1u);
  // Bound at last: never nudged again.
  auto bound = pod_json(testing::single_pod("lost", "tpu-v5-lite-podslice", "2x2", 4, "v5e-0"));
  service.apply_pod(bound);
  EXPECT_TRUE(service.upkeep(now + 10min, 10min).nudge.empty());
}

TEST_F(ReservationUpkeepTest, APodAcceptedButNeverBoundIsNudgedAgain) {
  EXPECT_EQ(filter(worker("orphan", 1)), nlohmann::json::array({"s-1"}));
  const auto now = Clock::now();
  EXPECT_TRUE(service.upkeep(now + 1s, 10min).nudge.empty());  // its bind is on the way
  auto upkeep = service.upkeep(now + 6s, 10min);
  ASSERT_EQ(upkeep.nudge.size(), 1u);
  EXPECT_EQ(upkeep.nudge[0].name, "orphan-1-x7k2p");
}

TEST_F(ReservationUpkeepTest, APodThatNoLongerFitsWhenItsRetryIsDueWaitsForAChange) {
  EXPECT_EQ(filter(worker("late", 0)), nlohmann::json::array({"s-0"}));
  // Its slice is gone before the retry: nothing to nudge for, and no retry after that without a change.
  for (int i = 0; i < 4; ++i) service.delete_node(node_json("s-" + std::to_string(i), "tpu-v6e-slice", "4x4", "s", 4));
  const auto now = Clock::now();
  EXPECT_TRUE(service.upkeep(now + 6s, 10min).nudge.empty());
  EXPECT_TRUE(service.upkeep(now + 10min, 10min).nudge.empty());
  for (int i = 0; i < 4; ++i) service.apply_node(node_json("s-" + std::to_string(i), "tpu-v6e-slice", "4x4", "s", 4));
  EXPECT_EQ(service.upkeep(now + 11min, 10min).nudge.size(), 1u);
}

}  // namespace
}  // namespace tpustack::extender
