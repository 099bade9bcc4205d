#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/topology/chip_search.h"
#include "common/topology/host_grid.h"

namespace tpustack::topology {
namespace {

using Chips = std::vector<int>;
using ::testing::HasSubstr;

std::vector<int> all_chips(int n) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(i);
  return out;
}

// Two NUMA nodes on an 8-chip host (ct5lp-hightpu-8t, ct6e-standard-8t): chips 0-3 and 4-7.
const std::vector<int> kTwoNuma{0, 0, 0, 0, 1, 1, 1, 1};

// The Error's message, or "accepted".
template <class T>
std::string refusal(const Result<T>& result) {
  return result ? "accepted" : result.error().message;
}

TEST(ChipSearchTest, WholeHostOnEveryHostSize) {
  for (int host : {1, 4, 8}) {
    const auto block = find_contiguous_block({host, host, all_chips(host), {}, {}}).value();
    ASSERT_TRUE(block) << host;
    EXPECT_EQ(*block, all_chips(host));
  }
}

TEST(ChipSearchTest, BlocksOnAFourChipHost) {
  EXPECT_EQ(find_contiguous_block({4, 1, all_chips(4), {}, {}}).value(), Chips{0});
  EXPECT_EQ(find_contiguous_block({4, 2, all_chips(4), {}, {}}).value(), (Chips{0, 1}));
  // Chip 1 is taken: the remaining pair along y is 2,3.
  EXPECT_EQ(find_contiguous_block({4, 2, {0, 2, 3}, {}, {}}).value(), (Chips{2, 3}));
  // 0 and 2 are neighbours along x, but a 2-chip process is 1x2 (TPU_CHIPS_PER_HOST_BOUNDS=1,2,1).
  EXPECT_EQ(find_contiguous_block({4, 2, {0, 2}, {}, {}}).value(), std::nullopt);
  EXPECT_EQ(find_contiguous_block({4, 4, {0, 1, 2}, {}, {}}).value(), std::nullopt);
}

TEST(ChipSearchTest, BlocksOnAnEightChipHostStayInOneNumaNode) {
  EXPECT_EQ(find_contiguous_block({8, 4, all_chips(8), {}, kTwoNuma}).value(), (Chips{0, 1, 2, 3}));
  // Chip 0 busy: the only NUMA-local 2x2 is 4-7, though 1,3,4,6 (y = 1..2) is contiguous too.
  EXPECT_EQ(find_contiguous_block({8, 4, {1, 2, 3, 4, 5, 6, 7}, {}, kTwoNuma}).value(), (Chips{4, 5, 6, 7}));
  EXPECT_EQ(find_contiguous_block({8, 2, all_chips(8), {}, kTwoNuma}).value(), (Chips{0, 1}));
  // The pair 1,4 crosses NUMA nodes; 2,3 does not.
  EXPECT_EQ(find_contiguous_block({8, 2, {1, 2, 3, 4}, {}, kTwoNuma}).value(), (Chips{2, 3}));
  // Without any aligned NUMA-local choice, a straddling 2x2 is still contiguous.
  EXPECT_EQ(find_contiguous_block({8, 4, {1, 3, 4, 6}, {}, kTwoNuma}).value(), (Chips{1, 3, 4, 6}));
  EXPECT_EQ(find_contiguous_block({8, 8, all_chips(8), {}, kTwoNuma}).value(), all_chips(8));
}

TEST(ChipSearchTest, MustIncludeIsHonoured) {
  EXPECT_EQ(find_contiguous_block({8, 2, all_chips(8), {5}, kTwoNuma}).value(), (Chips{4, 5}));
  EXPECT_EQ(find_contiguous_block({8, 4, all_chips(8), {6}, kTwoNuma}).value(), (Chips{4, 5, 6, 7}));
  EXPECT_EQ(find_contiguous_block({8, 2, all_chips(8), {0, 3}, kTwoNuma}).value(), std::nullopt);
  // Must-include chips count as available even when the kubelet lists them only once.
  EXPECT_EQ(find_contiguous_block({4, 2, {3}, {2}, {}}).value(), (Chips{2, 3}));
}

TEST(ChipSearchTest, PreferredChipsOffersOnlyBlocksAndSaysWhyThereIsNone) {
  EXPECT_EQ(preferred_chips({8, 4, {1, 2, 3, 4, 5, 6, 7}, {}, kTwoNuma}).value(), (Chips{4, 5, 6, 7}));
  EXPECT_EQ(preferred_chips({8, 2, all_chips(8), {7}, kTwoNuma}).value(), (Chips{6, 7}));
  // These used to come back as the connected sets 0,1,2 / 0,2 / 0,7, which Allocate refuses.
  EXPECT_THAT(refusal(preferred_chips({8, 3, all_chips(8), {}, kTwoNuma})),
              HasSubstr("1, 2, 4 or all 8 chips of a host, not 3"));
  EXPECT_THAT(refusal(preferred_chips({4, 2, {0, 2}, {}, {}})),
              HasSubstr("no 1x2 block of ICI neighbours is free among chips 0,2"));
  EXPECT_THAT(refusal(preferred_chips({8, 2, {0, 7}, {}, kTwoNuma})), HasSubstr("among chips 0,7"));
  EXPECT_THAT(refusal(preferred_chips({8, 4, {0, 1, 2, 3, 5}, {5}, kTwoNuma})),
              HasSubstr("no 2x2 block of ICI neighbours is free among chips 0,1,2,3,5 "
                        "that holds chips 5"));
}

TEST(ChipSearchTest, MalformedRequestsAreErrors) {
  EXPECT_FALSE(preferred_chips({8, 4, {0, 1, 2}, {}, {}}));  // too few available
  EXPECT_FALSE(preferred_chips({8, 1, all_chips(8), {0, 1}, {}}));
  EXPECT_FALSE(preferred_chips({8, 2, {0, 9}, {}, {}}));
  EXPECT_FALSE(preferred_chips({8, 0, all_chips(8), {}, {}}));
  EXPECT_FALSE(preferred_chips({3, 1, {0}, {}, {}}));
  EXPECT_FALSE(find_contiguous_block({4, 5, all_chips(4), {}, {}}));
}

}  // namespace
}  // namespace tpustack::topology
