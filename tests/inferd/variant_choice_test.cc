#include "inferd/engine/variant_choice.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tpustack::inferd::engine {
namespace {

TEST(VariantChoice, TheFastestVariantThatMeetsItsBarWins) {
  const std::vector<VariantTrial> trials{
      {WeightPrecision::f32, 0.010, 1.0}, {WeightPrecision::bf16, 0.004, 0.9995}, {WeightPrecision::i8, 0.003, 0.997}};
  EXPECT_EQ(fastest_accurate(trials), WeightPrecision::i8);
}

TEST(VariantChoice, AVariantBelowItsBarIsPassedOverHoweverFast) {
  // bf16 at 0.998 would pass int8's bar but not its own.
  const std::vector<VariantTrial> trials{
      {WeightPrecision::f32, 0.010, 1.0}, {WeightPrecision::bf16, 0.004, 0.998}, {WeightPrecision::i8, 0.003, 0.99}};
  EXPECT_EQ(fastest_accurate(trials), WeightPrecision::f32);
}

TEST(VariantChoice, F32StaysWhenTheOthersAreSlowerHere) {
  // A CPU without VNNI or bf16 instructions: emulated products lose to fp32.
  const std::vector<VariantTrial> trials{
      {WeightPrecision::f32, 0.010, 1.0}, {WeightPrecision::bf16, 0.030, 0.9999}, {WeightPrecision::i8, 0.012, 0.999}};
  EXPECT_EQ(fastest_accurate(trials), WeightPrecision::f32);
}

TEST(VariantChoice, RowCosineIsTheLowestOverRows) {
  const std::vector<float> a{1, 0, 0, 1}, b{1, 0, 1, 1};
  EXPECT_DOUBLE_EQ(min_row_cosine(a, a, 2), 1.0);
  EXPECT_NEAR(min_row_cosine(a, b, 2), 1 / std::sqrt(2.0), 1e-12);
}

}  // namespace
}  // namespace tpustack::inferd::engine
