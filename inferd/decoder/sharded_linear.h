#pragma once

#include <cstddef>
#include <vector>

#include "inferd/engine/cpu/linear.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/model/dense_weights.h"

namespace tpustack::inferd::decoder {

// A fully connected layer cut by output columns into shards, one per thread: a decoding step has a few rows, too
// few to share out by rows, so each thread multiplies all rows by its shard's columns and reads only its shard's
// weights (each weight is read once per step, by one thread). Every shard writes its columns into the full-width
// output rows in place.
class ShardedLinear {
 public:
  // Shard s holds the weight rows (output columns) [boundaries[s], boundaries[s + 1]); the bias, when the weights
  // have one, is added in the product's pass.
  ShardedLinear(const model::DenseWeights& weights, const std::vector<size_t>& boundaries,
                engine::WeightPrecision precision);

  size_t shards() const { return shards_.size(); }
  size_t out() const { return out_; }
  size_t first_column(size_t shard) const { return boundaries_[shard]; }
  size_t columns(size_t shard) const { return boundaries_[shard + 1] - boundaries_[shard]; }

  // y[r][first_column(shard) ..] = x[r] . W_shardᵀ for `rows` rows of x (in() floats each) and of y (out() floats
  // each). On the calling thread alone, like engine::cpu::Linear.
  void multiply(size_t shard, const float* x, size_t rows, float* y) const;

  // The kernel oneDNN chose (engine::cpu::Linear::kernel) for the first shard.
  const std::string& kernel() const { return shards_.front().kernel(); }

 private:
  size_t out_ = 0;
  std::vector<size_t> boundaries_;
  std::vector<engine::cpu::Linear> shards_;
};

// Column boundaries that cut `units` units of `unit_columns` columns (a head, or a 16-column group) into at most
// `shards` shards of whole units, as even as they go; none is empty. The last unit may be cut short at `columns`.
std::vector<size_t> shard_boundaries(size_t columns, size_t unit_columns, size_t shards);

// The rows of `parts` stacked into one layer: [q; k; v] as one product.
model::DenseWeights stacked(const std::vector<const model::DenseWeights*>& parts);

// gate and up (same shape) stacked shard by shard: shard s of the result, cut at 2 x `boundaries`, holds gate rows
// [b_s, b_s+1) then up rows [b_s, b_s+1), so the thread that multiplies it has both halves of SwiGLU for those
// columns.
model::DenseWeights paired(const model::DenseWeights& gate, const model::DenseWeights& up,
                           const std::vector<size_t>& boundaries);

}  // namespace tpustack::inferd::decoder
