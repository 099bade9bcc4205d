// Multi-host groups (JobSet child Jobs) against the real kube-scheduler v1.20.2, whose queue parks a pod that no
// node fits and, left alone, retries it only on cluster events or after a minute. tpu-extender reserves a whole
// slice for a group at whichever member the scheduler asks about first, and rebuilds those reservations from the
// pods' placement annotations when it restarts.
#include <algorithm>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/real_k8s/real_k8s_fixture.h"

namespace tpustack::testing {
namespace {

using namespace std::chrono_literals;

using RealK8sGroupTest = RealK8sTest;

double seconds_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

TEST_F(RealK8sGroupTest, FollowersCreatedBeforeTheirLeaderBindWithinFiveSeconds) {
  // The slice exists before tpu-extender and kube-scheduler start, so both know it when the pods come: the time
  // measured is the group's, not a cache's.
  const std::vector<std::string> hosts = create_slice("slice-a", "4x4", 4);
  ASSERT_NO_FATAL_FAILURE(start_extender());
  start_scheduler();

  const JobSetGroup group{"late-leader"};
  const auto start = Clock::now();
  create_group_pods(group, {3, 2, 1});
  // The leader comes a second later, so the scheduler's queue holds the followers first.
  const bool followers_bound_first = wait_until(
      [&] {
        const std::vector<std::string> nodes = bound_nodes(group);
        return std::count(nodes.begin(), nodes.end(), "") == 1;
      },
      1s);
  const auto followers_done = Clock::now();
  std::this_thread::sleep_until(start + 1s);
  create_group_pods(group, {0});
  ASSERT_TRUE(wait_until([&] { return all_bound(group); }, 30s)) << logs();
  const double seconds = seconds_between(start, Clock::now());
  std::cerr << "followers-first group bound whole " << seconds << " s after its first pod was created (followers "
            << (followers_bound_first ? "bound after " + std::to_string(seconds_between(start, followers_done)) + " s"
                                      : "still waiting")
            << " when the leader was created)\n";
  EXPECT_LE(seconds, 5.0) << logs();
  expect_group_on(group, hosts);
}

TEST_F(RealK8sGroupTest, ARestartedExtenderKeepsEachGroupOnItsOwnSlice) {
  const std::vector<std::string> slice_a = create_slice("slice-a", "4x4", 4);
  const std::vector<std::string> slice_b = create_slice("slice-b", "4x4", 4);
  ASSERT_NO_FATAL_FAILURE(start_extender());
  start_scheduler();

  // The Job controller creates a Job's pods in batches: two workers of the first group run before the others
  // exist, so half of its slice is held for pods tpu-extender has not seen yet.
  const JobSetGroup first{"first"};
  create_group_pods(first, {0, 1});
  ASSERT_TRUE(wait_until(
      [&] {
        const std::vector<std::string> nodes = bound_nodes(first);
        return !nodes[0].empty() && !nodes[1].empty();
      },
      30s))
      << logs();
  const bool first_on_a = bound_nodes(first)[0] == slice_a[0];
  const std::vector<std::string>& first_slice = first_on_a ? slice_a : slice_b;
  const std::vector<std::string>& other_slice = first_on_a ? slice_b : slice_a;

  // Its node dies: no chance to write anything down. What it knew must come back from the pods.
  ASSERT_NO_FATAL_FAILURE(kill_extender());
  ASSERT_NO_FATAL_FAILURE(start_extender());

  // The first group's late workers come first: had the restart lost the group's slice, they would reserve the
  // other free slice at first sight and leave the second group nothing.
  const JobSetGroup second{"second"};
  const auto start = Clock::now();
  create_group_pods(first, {2, 3});
  create_group_pods(second, {0, 1, 2, 3});
  ASSERT_TRUE(wait_until([&] { return all_bound(first) && all_bound(second); }, 30s)) << logs();
  std::cerr << "after the restart both groups were whole " << seconds_between(start, Clock::now())
            << " s after the new pods were created\n";
  expect_group_on(first, first_slice);
  expect_group_on(second, other_slice);
}

}  // namespace
}  // namespace tpustack::testing
