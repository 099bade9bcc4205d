#include "inferd/engine/pjrt/encoder_buckets.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tpustack::inferd::engine::pjrt {
namespace {

TEST(BucketSeries, DoublesUpToEachMaximumAndEndsOnIt) {
  const BucketSeries series(32, 512);
  EXPECT_EQ(series.batches(), (std::vector<size_t>{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(series.sequences(), (std::vector<size_t>{16, 32, 64, 128, 256, 512}));
  const BucketSeries odd(24, 300);
  EXPECT_EQ(odd.batches(), (std::vector<size_t>{1, 2, 4, 8, 16, 24}));
  EXPECT_EQ(odd.sequences(), (std::vector<size_t>{16, 32, 64, 128, 256, 300}));
  EXPECT_EQ(BucketSeries(1, 8).sequences(), std::vector<size_t>{8});
}

TEST(BucketSeries, ABatchTakesTheSmallestBucketThatHoldsIt) {
  const BucketSeries series(32, 512);
  EXPECT_EQ(series.fit(1, 5), (EncoderBucket{1, 16}));
  EXPECT_EQ(series.fit(3, 17), (EncoderBucket{4, 32}));
  EXPECT_EQ(series.fit(32, 512), (EncoderBucket{32, 512}));
  // Padding never reaches half of either dimension past the smallest bucket.
  for (size_t count = 1; count <= 32; ++count) {
    for (size_t longest = 16; longest <= 512; longest += 7) {
      const EncoderBucket bucket = series.fit(count, longest);
      EXPECT_LT(bucket.batch, 2 * count);
      EXPECT_LT(bucket.sequence, 2 * longest);
    }
  }
}

TEST(BucketRuns, EveryDeviceGetsARunOfNeighboursAndEverySequenceRunsOnce) {
  const BucketSeries series(8, 128);
  const std::vector<size_t> lengths{10, 100, 12, 90, 11, 95, 13, 99};
  const auto plan = plan_bucket_runs(lengths, 2, series);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].device, 0u);
  EXPECT_EQ(plan[1].device, 1u);
  // The long ones together, the short ones together: each pads little.
  EXPECT_EQ(plan[0].sequences, (std::vector<size_t>{1, 7, 5, 3}));
  EXPECT_EQ(plan[0].bucket, (EncoderBucket{4, 128}));
  EXPECT_EQ(plan[1].sequences, (std::vector<size_t>{6, 2, 4, 0}));
  EXPECT_EQ(plan[1].bucket, (EncoderBucket{4, 16}));
}

TEST(BucketRuns, ABatchLargerThanTheLargestBucketIsCutAndFewSequencesUseFewDevices) {
  const BucketSeries series(4, 64);
  const std::vector<size_t> lengths(11, 20);
  const auto plan = plan_bucket_runs(lengths, 2, series);
  ASSERT_EQ(plan.size(), 3u);
  std::vector<size_t> seen;
  for (const BucketRun& run : plan) {
    EXPECT_LE(run.sequences.size(), 4u);
    EXPECT_EQ(run.bucket.sequence, 32u);
    seen.insert(seen.end(), run.sequences.begin(), run.sequences.end());
  }
  EXPECT_EQ(plan[2].device, 0u);
  std::sort(seen.begin(), seen.end());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);

  const auto one = plan_bucket_runs(std::vector<size_t>{7}, 4, series);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].bucket, (EncoderBucket{1, 16}));
  EXPECT_TRUE(plan_bucket_runs({}, 4, series).empty());
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
