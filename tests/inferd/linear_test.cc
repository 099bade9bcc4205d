#include "inferd/engine/cpu/linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tpustack::inferd::engine::cpu {
namespace {

model::DenseWeights random_dense(size_t out, size_t in, std::mt19937& random) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  model::DenseWeights dense{{}, {}, out, in};
  for (size_t i = 0; i < out * in; ++i) dense.weight.push_back(uniform(random));
  for (size_t o = 0; o < out; ++o) dense.bias.push_back(uniform(random));
  return dense;
}

// y = x · Wᵀ for two parts side by side, in double, as the layers' products must come out.
std::vector<double> reference(const std::vector<float>& x, size_t rows, const model::DenseWeights& a,
                              const model::DenseWeights& b) {
  std::vector<double> y;
  for (size_t r = 0; r < rows; ++r) {
    for (const auto* part : {&a, &b}) {
      for (size_t o = 0; o < part->out; ++o) {
        double sum = 0;
        for (size_t i = 0; i < part->in; ++i) sum += double(x[r * part->in + i]) * part->weight[o * part->in + i];
        y.push_back(sum);
      }
    }
  }
  return y;
}

// Row counts on both sides of the chunk (256) and of the 16-row steps a call is cut into, and 1: each size gets
// its own primitive, and a wrong cut would leave rows unwritten or write past the caller's rows.
TEST(Linear, EveryRowCountGivesTheProductForEveryVariant) {
  std::mt19937 random(7);
  const size_t in = 40;
  const auto a = random_dense(24, in, random), b = random_dense(8, in, random);
  for (auto [precision, tolerance] : {std::pair{WeightPrecision::f32, 1e-4}, std::pair{WeightPrecision::bf16, 2e-2},
                                      std::pair{WeightPrecision::i8, 3e-2}}) {
    if (precision == WeightPrecision::bf16 && !has_native_bf16()) continue;
    const Linear linear({&a, &b}, precision);
    ASSERT_EQ(linear.out(), 32u);
    EXPECT_FALSE(linear.kernel().empty());
    for (size_t rows : {1, 15, 16, 17, 255, 256, 257, 529}) {
      std::vector<float> x(rows * in);
      std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
      for (float& value : x) value = uniform(random);
      std::vector<float> y(rows * 32 + 32, -12345.0f);  // one sentinel row past the end
      linear.multiply(x.data(), rows, y.data());
      const std::vector<double> expected = reference(x, rows, a, b);
      double scale = 0;
      for (double value : expected) scale = std::max(scale, std::fabs(value));
      for (size_t i = 0; i < expected.size(); ++i) {
        ASSERT_NEAR(y[i], expected[i], tolerance * scale)
            << precision_name(precision) << " rows " << rows << " value " << i;
      }
      for (size_t i = rows * 32; i < y.size(); ++i) ASSERT_EQ(y[i], -12345.0f) << "written past the rows";
    }
  }
}

// A column shard of a wider product writes its columns of each output row, bias included, and leaves the others.
TEST(Linear, AnOutputStrideWritesOnlyTheLayersColumnsOfEachRow) {
  std::mt19937 random(11);
  const size_t in = 40, stride = 48;
  const auto a = random_dense(24, in, random), b = random_dense(8, in, random);
  for (auto [precision, tolerance] : {std::pair{WeightPrecision::f32, 1e-4}, std::pair{WeightPrecision::bf16, 2e-2},
                                      std::pair{WeightPrecision::i8, 3e-2}}) {
    if (precision == WeightPrecision::bf16 && !has_native_bf16()) continue;
    const Linear linear({&a, &b}, precision, {.bias = true}, stride);
    for (size_t rows : {1, 17, 257}) {
      std::vector<float> x(rows * in);
      std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
      for (float& value : x) value = uniform(random);
      std::vector<float> y(rows * stride, -12345.0f);
      linear.multiply(x.data(), rows, y.data());
      const std::vector<double> expected = reference(x, rows, a, b);
      double scale = 0;
      for (double value : expected) scale = std::max(scale, std::fabs(value));
      for (size_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < stride; ++c) {
          if (c >= 32) {
            ASSERT_EQ(y[r * stride + c], -12345.0f) << "row " << r << " column " << c << " is not the layer's";
            continue;
          }
          const double bias = c < 24 ? a.bias[c] : b.bias[c - 24];
          ASSERT_NEAR(y[r * stride + c], expected[r * 32 + c] + bias, tolerance * scale)
              << precision_name(precision) << " rows " << rows << " row " << r << " column " << c;
        }
      }
    }
  }
}

}  // namespace
}  // namespace tpustack::inferd::engine::cpu
