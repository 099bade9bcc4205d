#include "inferd/decoder/sharded_linear.h"

#include <algorithm>

namespace tpustack::inferd::decoder {

namespace {

// Rows [first, first + count) of a layer, as their own layer.
model::DenseWeights rows_of(const model::DenseWeights& weights, size_t first, size_t count) {
  model::DenseWeights part{{}, {}, count, weights.in};
  const auto begin = weights.weight.begin() + static_cast<ptrdiff_t>(first * weights.in);
  part.weight.assign(begin, begin + static_cast<ptrdiff_t>(count * weights.in));
  if (!weights.bias.empty()) {
    const auto bias = weights.bias.begin() + static_cast<ptrdiff_t>(first);
    part.bias.assign(bias, bias + static_cast<ptrdiff_t>(count));
  }
  return part;
}

void append_rows(model::DenseWeights& to, const model::DenseWeights& from, size_t first, size_t count) {
  const model::DenseWeights rows = rows_of(from, first, count);
  to.weight.insert(to.weight.end(), rows.weight.begin(), rows.weight.end());
  to.bias.insert(to.bias.end(), rows.bias.begin(), rows.bias.end());
  to.out += count;
}

}  // namespace

ShardedLinear::ShardedLinear(const model::DenseWeights& weights, const std::vector<size_t>& boundaries,
                             engine::WeightPrecision precision)
    : out_(weights.out), boundaries_(boundaries) {
  for (size_t s = 0; s + 1 < boundaries.size(); ++s) {
    const model::DenseWeights shard = rows_of(weights, boundaries[s], boundaries[s + 1] - boundaries[s]);
    shards_.emplace_back(std::vector{&shard}, precision,
                         engine::cpu::Linear::Epilogue{.bias = !shard.bias.empty(), .activation = std::nullopt}, out_);
  }
}

void ShardedLinear::multiply(size_t shard, const float* x, size_t rows, float* y) const {
  shards_[shard].multiply(x, rows, y + boundaries_[shard]);
}

std::vector<size_t> shard_boundaries(size_t columns, size_t unit_columns, size_t shards) {
  const size_t units = (columns + unit_columns - 1) / unit_columns;
  shards = std::max<size_t>(1, std::min(shards, units));
  std::vector<size_t> boundaries;
  for (size_t s = 0; s <= shards; ++s) boundaries.push_back(std::min(columns, units * s / shards * unit_columns));
  return boundaries;
}

model::DenseWeights stacked(const std::vector<const model::DenseWeights*>& parts) {
  model::DenseWeights all{{}, {}, 0, parts.front()->in};
  for (const auto* part : parts) append_rows(all, *part, 0, part->out);
  return all;
}

model::DenseWeights paired(const model::DenseWeights& gate, const model::DenseWeights& up,
                           const std::vector<size_t>& boundaries) {
  model::DenseWeights all{{}, {}, 0, gate.in};
  for (size_t s = 0; s + 1 < boundaries.size(); ++s) {
    append_rows(all, gate, boundaries[s], boundaries[s + 1] - boundaries[s]);
    append_rows(all, up, boundaries[s], boundaries[s + 1] - boundaries[s]);
  }
  return all;
}

}  // namespace tpustack::inferd::decoder
