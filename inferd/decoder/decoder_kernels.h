#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "inferd/decoder/kv_cache.h"

// Row kernels of the decoder's forward pass in fp32. Each works serially on what it is given: the model shares rows,
// column shards and attention tasks out among its threads.
namespace tpustack::inferd::decoder {

// out = x / sqrt(mean(x^2) + eps) * weight, over one row of `cols` (LlamaRMSNorm).
void rms_norm(const float* x, const float* weight, size_t cols, float eps, float* out);

// out[c] = silu(gate[c]) * up[c] = gate[c] / (1 + exp(-gate[c])) * up[c].
void swiglu(const float* gate, const float* up, size_t cols, float* out);

// x[c] += y[c].
void add(float* x, const float* y, size_t cols);

// Where one sequence's keys and values are: its blocks in one layer of the cache.
struct PagedSequence {
  const KvCache& cache;
  size_t layer;
  std::span<const uint32_t> blocks;
};

// Scaled dot-product attention of one token's query heads that share key/value head `kv_head` (grouped-query
// attention: `group` heads of head_dim floats, side by side in q and in out) with the sequence's positions
// first .. last: out = softmax(q . k / sqrt(head_dim)) . v per head. Each key and value is read once for the whole
// group. `scores` holds group x (last - first + 1) floats.
void attend(const float* q, size_t group, const PagedSequence& sequence, size_t kv_head, size_t first, size_t last,
            float* scores, float* out);

}  // namespace tpustack::inferd::decoder
