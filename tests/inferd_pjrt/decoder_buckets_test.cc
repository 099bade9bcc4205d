// How the PJRT decoder cuts a continuous-batching step into static-shape runs (decoder_buckets.h): few programs,
// little padding, every chunk once.

#include "inferd/engine/pjrt/decoder_buckets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace tpustack::inferd::engine::pjrt {
namespace {

using ::testing::ElementsAre;

TEST(DecoderBucketSeries, DecodingHasItsOwnOneTokenBucketAndPromptChunksDouble) {
  const DecoderBucketSeries series(64, 512, 2048);
  EXPECT_THAT(series.batches(), ElementsAre(1, 2, 4, 8, 16, 32, 64));
  EXPECT_THAT(series.tokens(), ElementsAre(1, 16, 32, 64, 128, 256, 512));
  EXPECT_THAT(series.contexts(), ElementsAre(64, 128, 256, 512, 1024, 2048));
  // Maxima that are no power of two end their series; a context shorter than the first bucket is its only one.
  const DecoderBucketSeries odd(6, 100, 40);
  EXPECT_THAT(odd.batches(), ElementsAre(1, 2, 4, 6));
  EXPECT_THAT(odd.tokens(), ElementsAre(1, 16, 32, 64, 100));
  EXPECT_THAT(odd.contexts(), ElementsAre(40));
  EXPECT_EQ(series.fit(3, 1, 65), (DecoderBucket{4, 1, 128}));
  EXPECT_EQ(series.fit(1, 17, 17), (DecoderBucket{1, 32, 64}));
}

TEST(DecoderBucketSeries, WarmUpCoversDecodingAndEveryLoneFittingPromptChunk) {
  const DecoderBucketSeries series(4, 32, 100);
  EXPECT_EQ(series.warm_buckets(), (std::vector<DecoderBucket>{{1, 1, 64},
                                                               {1, 1, 100},
                                                               {2, 1, 64},
                                                               {2, 1, 100},
                                                               {4, 1, 64},
                                                               {4, 1, 100},
                                                               {1, 16, 64},
                                                               {1, 16, 100},
                                                               {1, 32, 64},
                                                               {1, 32, 100}}));
  // No bucket whose context no chunk of its length reaches: a chunk's context holds its tokens.
  const DecoderBucketSeries long_chunks(1, 128, 256);
  for (const DecoderBucket& bucket : long_chunks.warm_buckets()) EXPECT_GE(bucket.context, bucket.tokens);
}

TEST(DecoderPlan, DecodingSequencesRunTogetherAndPromptChunksApart) {
  const DecoderBucketSeries series(64, 512, 2048);
  // Chunk 1 is a prompt's 300 tokens, chunk 3 a short prompt of 10; the others decode at various lengths.
  const std::vector<ChunkExtent> chunks{{1, 70}, {300, 300}, {1, 1000}, {10, 10}, {1, 5}};
  const std::vector<DecoderRun> plan = plan_decoder_runs(chunks, series);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_THAT(plan[0].chunks, ElementsAre(4, 0, 2));  // by context
  EXPECT_EQ(plan[0].bucket, (DecoderBucket{4, 1, 1024}));
  EXPECT_THAT(plan[1].chunks, ElementsAre(3));
  EXPECT_EQ(plan[1].bucket, (DecoderBucket{1, 16, 64}));
  EXPECT_THAT(plan[2].chunks, ElementsAre(1));
  EXPECT_EQ(plan[2].bucket, (DecoderBucket{1, 512, 512}));
}

TEST(DecoderPlan, ARunHoldsAtMostTheLargestBatch) {
  const DecoderBucketSeries series(4, 32, 256);
  std::vector<ChunkExtent> chunks(10, ChunkExtent{1, 20});
  const std::vector<DecoderRun> plan = plan_decoder_runs(chunks, series);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].chunks.size(), 4u);
  EXPECT_EQ(plan[1].chunks.size(), 4u);
  EXPECT_THAT(plan[2].chunks, ElementsAre(8, 9));
  EXPECT_EQ(plan[2].bucket, (DecoderBucket{2, 1, 64}));
  EXPECT_TRUE(plan_decoder_runs({}, series).empty());
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
