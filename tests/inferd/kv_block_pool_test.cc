#include "inferd/generation/kv_block_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tpustack::inferd::generation {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr SequenceId first = 1;
constexpr SequenceId second = 2;

TEST(KvBlockPool, ATableGainsABlockOnlyWhenItsPositionsSpillOver) {
  KvBlockPool pool(KvCacheShape{4, 3});
  EXPECT_EQ(pool.free_blocks(), 3u);
  ASSERT_TRUE(pool.grow(first, 1));
  EXPECT_THAT(pool.blocks(first), ElementsAre(0));
  ASSERT_TRUE(pool.grow(first, 3));  // fills block 0
  EXPECT_THAT(pool.blocks(first), ElementsAre(0));
  ASSERT_TRUE(pool.grow(first, 1));
  EXPECT_THAT(pool.blocks(first), ElementsAre(0, 1));
  EXPECT_EQ(pool.positions(first), 5u);
  EXPECT_EQ(pool.used_blocks(), 2u);
  EXPECT_EQ(pool.free_blocks(), 1u);
  EXPECT_EQ(pool.blocks_for(5), 2u);
  EXPECT_EQ(pool.blocks_for(8), 2u);
  EXPECT_EQ(pool.blocks_for(0), 0u);
}

TEST(KvBlockPool, CanGrowCountsTheLastBlocksFreeSlots) {
  KvBlockPool pool(KvCacheShape{4, 3});
  ASSERT_TRUE(pool.grow(first, 5));
  EXPECT_EQ(pool.growable_positions(first), 3u + 4u);
  EXPECT_TRUE(pool.can_grow(first, 7));
  EXPECT_FALSE(pool.can_grow(first, 8));
  EXPECT_EQ(pool.growable_positions(second), 4u);  // unknown: the free blocks only
}

TEST(KvBlockPool, ExhaustionRefusesAndChangesNothing) {
  KvBlockPool pool(KvCacheShape{4, 3});
  ASSERT_TRUE(pool.grow(first, 10));
  EXPECT_FALSE(pool.grow(second, 5));
  EXPECT_THAT(pool.blocks(second), IsEmpty());
  EXPECT_EQ(pool.free_blocks(), 0u);
  ASSERT_TRUE(pool.grow(first, 2));  // the last block's slack
  EXPECT_FALSE(pool.grow(first, 1));
  EXPECT_EQ(pool.positions(first), 12u);
}

TEST(KvBlockPool, FreeingGivesEveryBlockBackForOthers) {
  KvBlockPool pool(KvCacheShape{4, 3});
  ASSERT_TRUE(pool.grow(first, 9));
  pool.free(first);
  EXPECT_EQ(pool.free_blocks(), 3u);
  EXPECT_EQ(pool.positions(first), 0u);
  EXPECT_THAT(pool.blocks(first), IsEmpty());
  pool.free(first);  // again: nothing
  EXPECT_EQ(pool.free_blocks(), 3u);
  ASSERT_TRUE(pool.grow(second, 12));
  EXPECT_THAT(pool.blocks(second), ElementsAre(0, 1, 2));
}

}  // namespace
}  // namespace tpustack::inferd::generation
