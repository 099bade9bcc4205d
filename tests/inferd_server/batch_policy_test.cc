#include "inferd/batching/batch_policy.h"

#include <gtest/gtest.h>

namespace tpustack::inferd::batching {
namespace {

using std::chrono::milliseconds;

const Clock::time_point t0{};

std::vector<Waiting> queue_of(std::vector<size_t> lengths, Clock::time_point at = t0) {
  std::vector<Waiting> queue;
  for (size_t n : lengths) queue.push_back({n, at});
  return queue;
}

BatchLimits limits(size_t tokens, size_t requests) { return {tokens, requests, milliseconds(5)}; }

TEST(BatchPolicy, EmptyQueueWaitsForever) {
  BatchChoice choice = choose_batch({}, limits(100, 8), t0);
  EXPECT_FALSE(choice.ready);
  EXPECT_EQ(choice.wake_at, Clock::time_point::max());
}

TEST(BatchPolicy, PartBatchWaitsUntilTheOldestHasWaitedMaxWait) {
  auto queue = queue_of({10, 12});
  BatchChoice early = choose_batch(queue, limits(100, 8), t0 + milliseconds(1));
  EXPECT_FALSE(early.ready);
  EXPECT_EQ(early.wake_at, t0 + milliseconds(5));
  BatchChoice late = choose_batch(queue, limits(100, 8), t0 + milliseconds(5));
  ASSERT_TRUE(late.ready);
  EXPECT_EQ(late.members, (std::vector<size_t>{0, 1}));
}

TEST(BatchPolicy, FullBatchGoesAtOnce) {
  BatchChoice by_count = choose_batch(queue_of({1, 1, 1}), limits(100, 2), t0);
  ASSERT_TRUE(by_count.ready);
  EXPECT_EQ(by_count.members, (std::vector<size_t>{0, 1}));
  BatchChoice by_tokens = choose_batch(queue_of({60, 50}), limits(100, 8), t0);
  ASSERT_TRUE(by_tokens.ready);
  EXPECT_EQ(by_tokens.members, (std::vector<size_t>{0}));
}

TEST(BatchPolicy, StaysWithinTheTokenBudget) {
  BatchChoice choice = choose_batch(queue_of({40, 30, 30, 30}), limits(100, 8), t0);
  ASSERT_TRUE(choice.ready);
  EXPECT_EQ(choice.members, (std::vector<size_t>{0, 1, 2}));
}

TEST(BatchPolicy, SequenceLongerThanTheBudgetRunsAlone) {
  BatchChoice choice = choose_batch(queue_of({500, 3}), limits(100, 8), t0);
  ASSERT_TRUE(choice.ready);
  EXPECT_EQ(choice.members, (std::vector<size_t>{0}));
}

TEST(BatchPolicy, GroupsLengthsNearTheOldest) {
  // The oldest is 100 tokens: the 90 and 110 join it before the short ones, which wait for the next batch.
  BatchChoice choice = choose_batch(queue_of({100, 5, 90, 6, 110}), limits(1000, 3), t0);
  ASSERT_TRUE(choice.ready);
  EXPECT_EQ(choice.members, (std::vector<size_t>{0, 2, 4}));
}

TEST(BatchPolicy, OldestAlwaysGoesFirstSoNothingStarves) {
  auto queue = queue_of({7, 100, 100, 100});
  BatchChoice choice = choose_batch(queue, limits(150, 8), t0);
  ASSERT_TRUE(choice.ready);
  EXPECT_EQ(choice.members, (std::vector<size_t>{0, 1}));
}

}  // namespace
}  // namespace tpustack::inferd::batching
