#include "inferd/decoder/kv_cache.h"

namespace tpustack::inferd::decoder {

KvCache::KvCache(size_t layers, size_t kv_heads, size_t head_dim, generation::KvCacheShape shape)
    : shape_(shape), kv_heads_(kv_heads), head_dim_(head_dim) {
  const size_t floats = shape.block_count * shape.block_tokens * kv_heads * head_dim;
  keys_.assign(layers, std::vector<float>(floats));
  values_.assign(layers, std::vector<float>(floats));
}

}  // namespace tpustack::inferd::decoder
