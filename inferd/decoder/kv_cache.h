#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "inferd/generation/decode_step.h"

namespace tpustack::inferd::decoder {

// The keys and values of every layer for block_count blocks of block_tokens positions, as
// [block_count][block_tokens][kv_heads][head_dim] fp32 per layer: position p of a sequence is slot p % block_tokens
// of block blocks[p / block_tokens] (generation::KvCacheShape). Zeroed when made; the scheduler owns which blocks
// belong to which sequence.
class KvCache {
 public:
  KvCache(size_t layers, size_t kv_heads, size_t head_dim, generation::KvCacheShape shape);

  const generation::KvCacheShape& shape() const { return shape_; }
  size_t layers() const { return keys_.size(); }
  size_t kv_heads() const { return kv_heads_; }
  size_t head_dim() const { return head_dim_; }
  // Floats of one position: every key/value head of one layer.
  size_t position_floats() const { return kv_heads_ * head_dim_; }

  // The layer's keys (values) of slot `slot` of block `block`: kv_heads x head_dim floats.
  float* keys(size_t layer, size_t block, size_t slot) { return keys_[layer].data() + offset(block, slot); }
  float* values(size_t layer, size_t block, size_t slot) { return values_[layer].data() + offset(block, slot); }
  const float* keys(size_t layer, size_t block, size_t slot) const { return keys_[layer].data() + offset(block, slot); }
  const float* values(size_t layer, size_t block, size_t slot) const {
    return values_[layer].data() + offset(block, slot);
  }

 private:
  size_t offset(size_t block, size_t slot) const { return (block * shape_.block_tokens + slot) * position_floats(); }

  generation::KvCacheShape shape_;
  size_t kv_heads_ = 0;
  size_t head_dim_ = 0;
  std::vector<std::vector<float>> keys_;  // per layer
  std::vector<std::vector<float>> values_;
};

}  // namespace tpustack::inferd::decoder
