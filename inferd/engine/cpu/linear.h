#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "inferd/engine/encoder_backend.h"
#include "inferd/model/bert_weights.h"

namespace inferd::engine::cpu {

// The matrix product of a fully connected layer, y = x · Wᵀ, on weights repacked once at load: fp32 as [in, out],
// or int8 with one scale per output column (activations are then quantised per row at run time). The bias is
// left to the element-wise kernel that follows, which folds it into its own pass.
class Linear {
 public:
  // Concatenates the layers' outputs side by side (for example query, key and value into one product).
  Linear(const std::vector<const model::DenseWeights*>& parts, WeightPrecision precision);

  // On the calling thread alone: the backend splits the rows among its threads itself.
  void multiply(const float* x, size_t rows, float* y) const;

  size_t in() const { return in_; }
  size_t out() const { return out_; }
  const float* bias() const { return bias_.data(); }

 private:
  void multiply_int8(const float* x, size_t rows, float* y) const;

  size_t in_ = 0;
  size_t out_ = 0;
  WeightPrecision precision_;
  std::vector<float> weight_;        // [in, out], fp32
  std::vector<int8_t> weight_int8_;  // [in, out], int8
  std::vector<float> column_scale_;  // [out], int8 only
  std::vector<float> bias_;
};

}  // namespace inferd::engine::cpu
