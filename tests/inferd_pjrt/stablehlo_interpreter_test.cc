#include "tests/inferd_pjrt/stablehlo_interpreter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/inferd_pjrt/bfloat16.h"
#include "tests/inferd_pjrt/cache_write_mlir.h"
#include "tests/inferd_pjrt/stablehlo_text.h"
#include "tests/support/result_matchers.h"

namespace tpustack::stablehlo_reference {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::FloatEq;
using ::testing::IsNan;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

Tensor f32(std::vector<int64_t> dims, std::vector<float> values) {
  return {{ElementType::kF32, std::move(dims)}, std::move(values)};
}

// The single result of `mlir` run on `arguments`.
Tensor run(std::string_view mlir, std::vector<Tensor> arguments) {
  const Program program = value_of(parse_program(mlir));
  std::vector<Tensor> results = value_of(run_program(program, std::move(arguments)));
  EXPECT_EQ(results.size(), 1u);
  return results.at(0);
}

std::string elementwise(std::string_view op, int operands) {
  std::string text = "func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {\n  %0 = stablehlo.";
  text += std::string(op) + (operands == 2 ? " %a, %b" : " %a") + " : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}";
  return text;
}

TEST(StablehloInterpreter, ComputesElementwiseOperationsInFloat32) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor a = f32({4}, {1.0f, -2.0f, 4.0f, nan});
  const Tensor b = f32({4}, {3.0f, 0.5f, -1.0f, 2.0f});
  auto values = [&](std::string_view op, int operands) { return run(elementwise(op, operands), {a, b}).values; };
  EXPECT_THAT(values("add", 2), ElementsAre(4.0f, -1.5f, 3.0f, IsNan()));
  EXPECT_THAT(values("subtract", 2), ElementsAre(-2.0f, -2.5f, 5.0f, IsNan()));
  EXPECT_THAT(values("multiply", 2), ElementsAre(3.0f, -1.0f, -4.0f, IsNan()));
  EXPECT_THAT(values("divide", 2), ElementsAre(FloatEq(1.0f / 3), -4.0f, -4.0f, IsNan()));
  EXPECT_THAT(values("maximum", 2), ElementsAre(3.0f, 0.5f, 4.0f, IsNan()));
  EXPECT_THAT(values("negate", 1), ElementsAre(-1.0f, 2.0f, -4.0f, IsNan()));
  EXPECT_THAT(values("exponential", 1), ElementsAre(std::exp(1.0f), std::exp(-2.0f), std::exp(4.0f), IsNan()));
  EXPECT_THAT(values("tanh", 1), ElementsAre(std::tanh(1.0f), std::tanh(-2.0f), std::tanh(4.0f), IsNan()));
  EXPECT_THAT(values("sqrt", 1), ElementsAre(1.0f, IsNan(), 2.0f, IsNan()));
  EXPECT_THAT(values("rsqrt", 1), ElementsAre(1.0f, IsNan(), 0.5f, IsNan()));
}

TEST(StablehloInterpreter, BroadcastsAlongTheNamedDimensionsAndStretchesSizeOne) {
  const Tensor column = run(R"mlir(func.func @main(%a: tensor<3xf32>) -> tensor<3x2xf32> {
  %0 = stablehlo.broadcast_in_dim %a, dims = [0] : (tensor<3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
})mlir",
                            {f32({3}, {1, 2, 3})});
  EXPECT_THAT(column.values, ElementsAre(1, 1, 2, 2, 3, 3));
  const Tensor stretched = run(R"mlir(func.func @main(%a: tensor<1x3xf32>) -> tensor<2x3xf32> {
  %0 = stablehlo.broadcast_in_dim %a, dims = [0, 1] : (tensor<1x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
})mlir",
                               {f32({1, 3}, {1, 2, 3})});
  EXPECT_THAT(stretched.values, ElementsAre(1, 2, 3, 1, 2, 3));
}

TEST(StablehloInterpreter, TransposesAndReshapesRowMajor) {
  const Tensor transposed = run(R"mlir(func.func @main(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = stablehlo.transpose %a, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
})mlir",
                                {f32({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_THAT(transposed.type.dims, ElementsAre(3, 2));
  EXPECT_THAT(transposed.values, ElementsAre(1, 4, 2, 5, 3, 6));
  const Tensor reshaped = run(R"mlir(func.func @main(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = stablehlo.reshape %a : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
})mlir",
                              {f32({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_THAT(reshaped.values, ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(StablehloInterpreter, BatchedDotGeneralMatchesALoop) {
  // Attention scores: q [2,2,3] · k [2,3,2] over batch 0, contracting q's 2 with k's 1.
  std::vector<float> q(12), k(12);
  for (int i = 0; i < 12; ++i) {
    q[i] = 0.1f * static_cast<float>(i) - 0.5f;
    k[i] = 0.3f - 0.05f * static_cast<float>(i * i % 7);
  }
  const Tensor scores = run(R"mlir(func.func @main(%q: tensor<2x2x3xf32>, %k: tensor<2x3x2xf32>) -> tensor<2x2x2xf32> {
  %0 = stablehlo.dot_general %q, %k, batching_dims = [0] x [0], contracting_dims = [2] x [1] : (tensor<2x2x3xf32>, tensor<2x3x2xf32>) -> tensor<2x2x2xf32>
  return %0 : tensor<2x2x2xf32>
})mlir",
                            {f32({2, 2, 3}, q), f32({2, 3, 2}, k)});
  std::vector<float> expected;
  for (int b = 0; b < 2; ++b) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        float sum = 0.0f;
        for (int c = 0; c < 3; ++c) sum += q[b * 6 + i * 3 + c] * k[b * 6 + c * 2 + j];
        expected.push_back(sum);
      }
    }
  }
  EXPECT_THAT(scores.values, ElementsAreArray(expected));
}

TEST(StablehloInterpreter, ReducesWithMaximumFromMinusInfinity) {
  const Tensor maxima = run(R"mlir(func.func @main(%a: tensor<3x2xf32>) -> tensor<2xf32> {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %0 = stablehlo.reduce(%a init: %ninf) applies stablehlo.maximum across dimensions = [0] : (tensor<3x2xf32>, tensor<f32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
})mlir",
                            {f32({3, 2}, {1, -8, 7, -9, 3, -7})});
  EXPECT_THAT(maxima.values, ElementsAre(7, -7));
}

TEST(StablehloInterpreter, ConvertingToBfloat16RoundsToNearestEven) {
  const Tensor rounded = run(R"mlir(func.func @main(%a: tensor<3xf32>) -> tensor<3xbf16> {
  %0 = stablehlo.convert %a : (tensor<3xf32>) -> tensor<3xbf16>
  return %0 : tensor<3xbf16>
})mlir",
                             {f32({3}, {1.00390625f, 1.01171875f, 1.0078125f})});
  EXPECT_EQ(rounded.type.element, ElementType::kBF16);
  // Halfway between 1 and 1+2^-7 goes down to the even 1; halfway above 1+2^-7 goes up to 1+2^-6; exact stays.
  EXPECT_THAT(rounded.values, ElementsAre(1.0f, 1.015625f, 1.0078125f));
  EXPECT_EQ(float_to_bf16(1.00390625f), 0x3f80);
}

TEST(StablehloInterpreter, DotGeneralOfBfloat16OperandsGivesAnUnroundedFloat32Result) {
  // 1 + 2^-8 is a bf16 number; its square, 1 + 2^-7 + 2^-16, is not, and a bf16 result would drop the 2^-16.
  const Tensor product =
      run(R"mlir(func.func @main(%a: tensor<1x1xbf16>, %b: tensor<1x1xbf16>) -> tensor<1x1xf32> {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<1x1xbf16>, tensor<1x1xbf16>) -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
})mlir",
          {{{ElementType::kBF16, {1, 1}}, {1.00390625f}}, {{ElementType::kBF16, {1, 1}}, {1.00390625f}}});
  EXPECT_EQ(product.type.element, ElementType::kF32);
  EXPECT_THAT(product.values, ElementsAre(1.00390625f * 1.00390625f));
}

TEST(StablehloInterpreter, AttentionDotsBatchOverTwoDimensions) {
  // Scores of q [1,2,2,2] (batch, query, head, depth) with k alike, batched over batch and head: [1,2,2,2].
  const std::vector<float> q{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<float> k{1, 0, 0, 1, 2, 1, 1, 2};
  const Tensor scores =
      run(R"mlir(func.func @main(%q: tensor<1x2x2x2xf32>, %k: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %0 = stablehlo.dot_general %q, %k, batching_dims = [0, 2] x [0, 2], contracting_dims = [3] x [3] : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %0 : tensor<1x2x2x2xf32>
})mlir",
          {f32({1, 2, 2, 2}, q), f32({1, 2, 2, 2}, k)});
  std::vector<float> expected;
  for (int head = 0; head < 2; ++head) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        expected.push_back(q[i * 4 + head * 2] * k[j * 4 + head * 2] +
                           q[i * 4 + head * 2 + 1] * k[j * 4 + head * 2 + 1]);
      }
    }
  }
  EXPECT_THAT(scores.values, ElementsAreArray(expected));
}

TEST(StablehloInterpreter, SlicesRangesWithStrides) {
  const Tensor sliced = run(R"mlir(func.func @main(%a: tensor<3x4xf32>) -> tensor<2x2xf32> {
  %0 = stablehlo.slice %a [1:3, 0:4:2] : (tensor<3x4xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
})mlir",
                            {f32({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})});
  EXPECT_THAT(sliced.values, ElementsAre(4, 6, 8, 10));
}

TEST(StablehloInterpreter, ClampsToScalarBounds) {
  const Tensor clamped = run(R"mlir(func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %lo = stablehlo.constant dense<-1.0> : tensor<f32>
  %hi = stablehlo.constant dense<2.0> : tensor<f32>
  %0 = stablehlo.clamp %lo, %a, %hi : (tensor<f32>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
})mlir",
                             {f32({4}, {-3, 0.5f, 2, 7})});
  EXPECT_THAT(clamped.values, ElementsAre(-1, 0.5f, 2, 2));
}

TEST(StablehloInterpreter, GathersTableRowsByIdsClampingThoseOutOfRange) {
  const Tensor rows = run(R"mlir(func.func @main(%t: tensor<3x2xf32>, %ids: tensor<2x2xi32>) -> tensor<2x2x2xf32> {
  %i = stablehlo.reshape %ids : (tensor<2x2xi32>) -> tensor<2x2x1xi32>
  %0 = "stablehlo.gather"(%t, %i) <{dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 2>, indices_are_sorted = false, slice_sizes = array<i64: 1, 2>}> : (tensor<3x2xf32>, tensor<2x2x1xi32>) -> tensor<2x2x2xf32>
  return %0 : tensor<2x2x2xf32>
})mlir",
                          {f32({3, 2}, {0, 1, 10, 11, 20, 21}), {{ElementType::kI32, {2, 2}}, {2, 0, 1, 7}}});
  EXPECT_THAT(rows.values, ElementsAre(20, 21, 0, 1, 10, 11, 20, 21));
}

TEST(StablehloInterpreter, ScattersRowsSkippingIndicesOutOfRangeAndKeepingTheLastOfDuplicates) {
  std::vector<float> table(15), updates(15);
  for (int i = 0; i < 15; ++i) {
    table[i] = static_cast<float>(i);
    updates[i] = static_cast<float>(100 + 10 * (i / 3) + i % 3);
  }
  // Row 1 is written twice (the second, updates row 4, stays); 5 and -1 lie outside the 5 rows and are dropped.
  const Tensor written =
      run(cache_write_mlir("tensor<5x3xf32>", "tensor<5x1xi32>", "tensor<5x3xf32>"),
          {f32({5, 3}, table), {{ElementType::kI32, {5, 1}}, {1, 5, 3, -1, 1}}, f32({5, 3}, updates)});
  EXPECT_EQ(written.type, (TensorType{ElementType::kF32, {5, 3}}));
  EXPECT_THAT(written.values, ElementsAre(0, 1, 2, 140, 141, 142, 6, 7, 8, 120, 121, 122, 12, 13, 14));

  const Tensor bf16 = run(cache_write_mlir("tensor<2x2xbf16>", "tensor<1x1xi32>", "tensor<1x2xbf16>"),
                          {{{ElementType::kBF16, {2, 2}}, {1, 2, 3, 4}},
                           {{ElementType::kI32, {1, 1}}, {0}},
                           {{ElementType::kBF16, {1, 2}}, {1.0078125f, -8}}});
  EXPECT_EQ(bf16.type.element, ElementType::kBF16);
  EXPECT_THAT(bf16.values, ElementsAre(1.0078125f, -8, 3, 4));
}

TEST(StablehloInterpreter, IotaComparisonsAndSelectsMaskWhatAPositionMayNotSee) {
  // A causal mask: key k is visible to query q at position p[q] when k <= p[q]; a query at -1 sees nothing.
  const Tensor masked = run(R"mlir(func.func @main(%p: tensor<3xi32>, %s: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %k = stablehlo.iota dim = 1 : tensor<3x4xi32>
  %q = stablehlo.broadcast_in_dim %p, dims = [0] : (tensor<3xi32>) -> tensor<3x4xi32>
  %v = stablehlo.compare  LE, %k, %q,  SIGNED : (tensor<3x4xi32>, tensor<3x4xi32>) -> tensor<3x4xi1>
  %h = stablehlo.constant dense<-1.000000e+09> : tensor<3x4xf32>
  %0 = stablehlo.select %v, %s, %h : tensor<3x4xi1>, tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
})mlir",
                            {{{ElementType::kI32, {3}}, {1, 3, -1}}, f32({3, 4}, std::vector<float>(12, 0.5f))});
  const float hidden = -1e9f;
  EXPECT_THAT(masked.values,
              ElementsAre(0.5f, 0.5f, hidden, hidden, 0.5f, 0.5f, 0.5f, 0.5f, hidden, hidden, hidden, hidden));

  auto compared = [](std::string_view direction) {
    return run("func.func @main(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<3xi1> {\n  %0 = stablehlo.compare  " +
                   std::string(direction) +
                   ", %a, %b,  FLOAT : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>\n  return %0 : tensor<3xi1>\n}",
               {f32({3}, {1, 2, 3}), f32({3}, {2, 2, 2})})
        .values;
  };
  EXPECT_THAT(compared("EQ"), ElementsAre(0, 1, 0));
  EXPECT_THAT(compared("NE"), ElementsAre(1, 0, 1));
  EXPECT_THAT(compared("LT"), ElementsAre(1, 0, 0));
  EXPECT_THAT(compared("GE"), ElementsAre(0, 1, 1));
}

TEST(StablehloInterpreter, ConcatenatesAlongTheNamedDimension) {
  const Tensor joined = run(R"mlir(func.func @main(%a: tensor<2x1xf32>, %b: tensor<2x2xf32>) -> tensor<2x3xf32> {
  %0 = stablehlo.concatenate %a, %b, dim = 1 : (tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
})mlir",
                            {f32({2, 1}, {1, 2}), f32({2, 2}, {10, 11, 20, 21})});
  EXPECT_THAT(joined.values, ElementsAre(1, 10, 11, 2, 20, 21));
}

TEST(StablehloInterpreter, TakesCosinesAndSinesAndConvertsToI32TowardZero) {
  const Tensor a = f32({4}, {0.0f, 1.0f, -2.5f, 2.5f});
  EXPECT_THAT(run(elementwise("cosine", 1), {a, a}).values,
              ElementsAre(1.0f, std::cos(1.0f), std::cos(-2.5f), std::cos(2.5f)));
  EXPECT_THAT(run(elementwise("sine", 1), {a, a}).values,
              ElementsAre(0.0f, std::sin(1.0f), std::sin(-2.5f), std::sin(2.5f)));
  const Tensor whole = run(R"mlir(func.func @main(%a: tensor<4xf32>) -> tensor<4xi32> {
  %0 = stablehlo.convert %a : (tensor<4xf32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
})mlir",
                           {a});
  EXPECT_THAT(whole.values, ElementsAre(0, 1, -2, 2));
}

TEST(StablehloInterpreter, ArgumentsMustMatchTheParameters) {
  const Program program = value_of(parse_program(elementwise("add", 2)));
  EXPECT_THAT(run_program(program, {f32({4}, {1, 2, 3, 4})}), FailsWith("the program takes 2 arguments, not 1"));
  EXPECT_THAT(run_program(program, {f32({4}, {1, 2, 3, 4}), f32({2, 2}, {1, 2, 3, 4})}),
              FailsWith("argument 1 is tensor<2x2xf32>, but the program's parameter 1 is tensor<4xf32>"));
  EXPECT_THAT(run_program(program, {f32({4}, {1, 2, 3, 4}), f32({4}, {1, 2})}),
              FailsWith("argument 1 has 2 values for tensor<4xf32>"));
}

}  // namespace
}  // namespace tpustack::stablehlo_reference
