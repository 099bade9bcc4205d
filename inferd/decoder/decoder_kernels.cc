#include "inferd/decoder/decoder_kernels.h"

#include <algorithm>
#include <cmath>

namespace tpustack::inferd::decoder {

namespace {

// Compiled for AVX-512, AVX2 and the baseline, picked at load time by the CPU that runs them.
#define INFERD_DECODER_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))

INFERD_DECODER_KERNEL float dot(const float* a, const float* b, size_t n) {
  // The simd reduction lets GCC sum in vector lanes, which strict IEEE order would forbid.
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

INFERD_DECODER_KERNEL void add_scaled(float* x, const float* y, float scale, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) x[i] += scale * y[i];
}

}  // namespace

INFERD_DECODER_KERNEL void rms_norm(const float* x, const float* weight, size_t cols, float eps, float* out) {
  float squares = 0.0f;
#pragma omp simd reduction(+ : squares)
  for (size_t c = 0; c < cols; ++c) squares += x[c] * x[c];
  const float inverse = 1.0f / std::sqrt(squares / static_cast<float>(cols) + eps);
#pragma omp simd
  for (size_t c = 0; c < cols; ++c) out[c] = x[c] * inverse * weight[c];
}

void swiglu(const float* gate, const float* up, size_t cols, float* out) {
  for (size_t c = 0; c < cols; ++c) out[c] = gate[c] / (1.0f + std::exp(-gate[c])) * up[c];
}

INFERD_DECODER_KERNEL void add(float* x, const float* y, size_t cols) {
#pragma omp simd
  for (size_t c = 0; c < cols; ++c) x[c] += y[c];
}

void attend(const float* q, size_t group, const PagedSequence& sequence, size_t kv_head, size_t first, size_t last,
            float* scores, float* out) {
  const KvCache& cache = sequence.cache;
  const size_t d = cache.head_dim(), stride = cache.position_floats(), block_tokens = cache.shape().block_tokens;
  const size_t n = last - first + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  // Positions run block by block: a block's slots are consecutive in memory.
  const auto for_each_run = [&](auto&& visit) {
    for (size_t p = first; p <= last;) {
      const size_t slot = p % block_tokens, run = std::min(block_tokens - slot, last + 1 - p);
      visit(p - first, sequence.blocks[p / block_tokens], slot, run);
      p += run;
    }
  };
  for_each_run([&](size_t j0, size_t block, size_t slot, size_t run) {
    const float* keys = cache.keys(sequence.layer, block, slot) + kv_head * d;
    for (size_t j = 0; j < run; ++j) {
      for (size_t g = 0; g < group; ++g) scores[g * n + j0 + j] = dot(q + g * d, keys + j * stride, d) * scale;
    }
  });
  for (size_t g = 0; g < group; ++g) {
    float* row = scores + g * n;
    const float max = *std::max_element(row, row + n);
    float sum = 0.0f;
    for (size_t j = 0; j < n; ++j) {
      row[j] = std::exp(row[j] - max);
      sum += row[j];
    }
    const float inverse = 1.0f / sum;
    for (size_t j = 0; j < n; ++j) row[j] *= inverse;
  }
  std::fill_n(out, group * d, 0.0f);
  for_each_run([&](size_t j0, size_t block, size_t slot, size_t run) {
    const float* values = cache.values(sequence.layer, block, slot) + kv_head * d;
    for (size_t j = 0; j < run; ++j) {
      for (size_t g = 0; g < group; ++g) add_scaled(out + g * d, values + j * stride, scores[g * n + j0 + j], d);
    }
  });
}

}  // namespace tpustack::inferd::decoder
