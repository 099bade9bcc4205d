#include "inferd/engine/cpu/kernels.h"

#include <dnnl.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace inferd::engine::cpu {

namespace {

// Row kernels are compiled for AVX-512, AVX2 and the baseline, picked at load time by the CPU that runs them.
#define INFERD_ROW_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))

// 16 floats, one AVX-512 register, as a GCC vector type: the AVX2 and baseline clones split it. Loops written on it
// need no help from the auto-vectoriser, which handles short rows (per-row peeling and reductions) poorly.
typedef float Floats16 __attribute__((vector_size(64)));
typedef int32_t Ints16 __attribute__((vector_size(64)));
constexpr size_t floats16 = 16;

inline Floats16 load16(const float* from) {
  Floats16 v;
  std::memcpy(&v, from, sizeof(v));
  return v;
}
inline void store16(float* to, Floats16 v) { std::memcpy(to, &v, sizeof(v)); }

// 2^n for an integer-valued n, by building the float's exponent bits.
inline float two_to_the(float n) { return std::bit_cast<float>(static_cast<int32_t>(n + 127.0f) << 23); }
inline Floats16 two_to_the(Floats16 n) {
  return reinterpret_cast<Floats16>(__builtin_convertvector(n + 127.0f, Ints16) << 23);
}

// exp of x <= 0 (every caller's case: -a², -2|u|, score - max) by range reduction to 2^n * e^r, |r| <= ln2/2, and a
// degree-6 polynomial (relative error < 2e-7); plain arithmetic, for one float or 16, so the loops around it
// vectorise, which std::exp and std::erf would prevent.
template <class T>
inline T fast_exp_nonpositive(T x) {
  const T lowest = T{} - 87.0f;
  x = x < lowest ? lowest : x;
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer without a call to floor or nearbyint.
  T n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  T r = x - n * 0.693145752f - n * 1.42860677e-6f;
  T p = 1.0f +
        r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f + r * (0.00833333377f + r * 0.00138888892f)))));
  return p * two_to_the(n);
}

// Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7.
inline float fast_erf(float x) {
  float a = std::fabs(x);
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  float y = 1.0f - poly * fast_exp_nonpositive(-a * a);
  return std::copysign(y, x);
}

INFERD_ROW_KERNEL void gelu_row(float* row, const float* bias, size_t cols) {
  for (size_t c = 0; c < cols; ++c) {
    float x = row[c] + bias[c];
    row[c] = 0.5f * x * (1.0f + fast_erf(x * 0.707106781f));
  }
}

INFERD_ROW_KERNEL void gelu_tanh_row(float* row, const float* bias, size_t cols) {
  for (size_t c = 0; c < cols; ++c) {
    float x = row[c] + bias[c];
    float u = 0.797884561f * (x + 0.044715f * x * x * x);
    float e = fast_exp_nonpositive(-2.0f * std::fabs(u));
    row[c] = 0.5f * x * (1.0f + std::copysign((1.0f - e) / (1.0f + e), u));
  }
}

INFERD_ROW_KERNEL void relu_row(float* row, const float* bias, size_t cols) {
  for (size_t c = 0; c < cols; ++c) row[c] = std::max(row[c] + bias[c], 0.0f);
}

INFERD_ROW_KERNEL void layer_norm_row(float* row, const model::LayerNormWeights& norm, size_t cols, float eps) {
  // The simd reductions let GCC reorder the sums into vector lanes, which strict IEEE order would forbid.
  float mean = 0.0f;
#pragma omp simd reduction(+ : mean)
  for (size_t c = 0; c < cols; ++c) mean += row[c];
  mean /= static_cast<float>(cols);
  float variance = 0.0f;
#pragma omp simd reduction(+ : variance)
  for (size_t c = 0; c < cols; ++c) variance += (row[c] - mean) * (row[c] - mean);
  float inv = 1.0f / std::sqrt(variance / static_cast<float>(cols) + eps);
  for (size_t c = 0; c < cols; ++c) row[c] = (row[c] - mean) * inv * norm.gamma[c] + norm.beta[c];
}

INFERD_ROW_KERNEL void add_residual_layer_norm_row(float* row, const float* add, const float* bias,
                                                   const model::LayerNormWeights& norm, size_t cols, float eps) {
  for (size_t c = 0; c < cols; ++c) row[c] += add[c] + bias[c];
  layer_norm_row(row, norm, cols, eps);
}

// Softmax of each of `rows` rows of n scores without its last step: row[i] = exp(row[i] - max), and 1 / sum in
// inverse_sums[r]. The caller scales the product of the rows with the values instead (head size d rather than
// length n multiplications).
INFERD_ROW_KERNEL void unnormalized_softmax_rows(float* scores, size_t rows, size_t n, float* inverse_sums) {
  const size_t whole = n / floats16 * floats16;
  for (size_t r = 0; r < rows; ++r) {
    float* row = scores + r * n;
    Floats16 maxes = Floats16{} + row[0];
    for (size_t i = 0; i < whole; i += floats16) {
      const Floats16 x = load16(row + i);
      maxes = x > maxes ? x : maxes;
    }
    float max = row[0];
    for (size_t l = 0; l < floats16; ++l) max = std::max(max, maxes[l]);
    for (size_t i = whole; i < n; ++i) max = std::max(max, row[i]);
    Floats16 sums{};
    for (size_t i = 0; i < whole; i += floats16) {
      const Floats16 e = fast_exp_nonpositive(load16(row + i) - max);
      store16(row + i, e);
      sums += e;
    }
    float sum = 0.0f;
    for (size_t l = 0; l < floats16; ++l) sum += sums[l];
    for (size_t i = whole; i < n; ++i) {
      row[i] = fast_exp_nonpositive(row[i] - max);
      sum += row[i];
    }
    inverse_sums[r] = 1.0f / sum;
  }
}

}  // namespace

void embed_tokens(const model::BertWeights& weights, const TokenBatch& batch, size_t first, size_t count, float* out) {
  const size_t h = weights.config.hidden_size;
  const float eps = weights.config.layer_norm_eps;
  // The sequence holding token `first`: the last one starting at or before it.
  size_t s =
      static_cast<size_t>(std::upper_bound(batch.offsets.begin(), batch.offsets.end(), first) - batch.offsets.begin()) -
      1;
  for (size_t t = first; t < first + count; ++t) {
    while (t >= batch.offsets[s + 1]) ++s;
    const float* word = weights.word_embeddings.data() + static_cast<size_t>(batch.ids[t]) * h;
    const float* position = weights.position_embeddings.data() + (t - batch.offsets[s]) * h;
    const float* type = weights.type_embeddings.data() + static_cast<size_t>(batch.type_ids[t]) * h;
    float* row = out + (t - first) * h;
    for (size_t c = 0; c < h; ++c) row[c] = word[c] + position[c] + type[c];
    layer_norm_row(row, weights.embedding_norm, h, eps);
  }
}

void add_bias_residual_layer_norm(float* x, const float* y, const float* bias, const model::LayerNormWeights& norm,
                                  size_t rows, size_t cols, float eps) {
  for (size_t r = 0; r < rows; ++r) add_residual_layer_norm_row(x + r * cols, y + r * cols, bias, norm, cols, eps);
}

void add_bias(float* x, const float* bias, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) x[r * cols + c] += bias[c];
  }
}

void add_bias_activation(float* x, const float* bias, model::Activation activation, size_t rows, size_t cols) {
  auto* row_kernel = activation == model::Activation::gelu        ? gelu_row
                     : activation == model::Activation::gelu_tanh ? gelu_tanh_row
                                                                  : relu_row;
  for (size_t r = 0; r < rows; ++r) row_kernel(x + r * cols, bias, cols);
}

void add_bias_tanh(float* x, const float* bias, size_t rows, size_t cols) {
  for (size_t i = 0; i < rows * cols; ++i) x[i] = std::tanh(x[i] + bias[i % cols]);
}

// A block's scores (block x length) stay in cache between the two products, and long sequences split across
// threads even at batch 1.
constexpr size_t attention_block_rows = 64;

std::vector<AttentionTask> attention_tasks(const TokenBatch& batch, size_t heads) {
  std::vector<AttentionTask> tasks;
  for (size_t s = 0; s < batch.size(); ++s) {
    for (size_t head = 0; head < heads; ++head) {
      for (size_t row = 0; row < batch.length(s); row += attention_block_rows) tasks.push_back({s, head, row});
    }
  }
  std::stable_sort(tasks.begin(), tasks.end(), [&](const AttentionTask& a, const AttentionTask& b) {
    return batch.length(a.sequence) > batch.length(b.sequence);
  });
  return tasks;
}

void self_attention(const float* qkv, float* context, const TokenBatch& batch, const std::vector<AttentionTask>& tasks,
                    size_t hidden, size_t heads) {
  const size_t d = hidden / heads;
  const auto ld = static_cast<dnnl_dim_t>(3 * hidden);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> scores, inverse_sums;
#pragma omp for schedule(dynamic, 1)
  for (size_t i = 0; i < tasks.size(); ++i) {
    const AttentionTask& task = tasks[i];
    const size_t n = batch.length(task.sequence);
    const size_t rows = std::min(attention_block_rows, n - task.first_row);
    const float* q = qkv + batch.offsets[task.sequence] * 3 * hidden + task.head * d;
    const float* k = q + hidden;
    const float* v = q + 2 * hidden;
    scores.resize(rows * n);
    const auto length = static_cast<dnnl_dim_t>(n), block = static_cast<dnnl_dim_t>(rows);
    dnnl_sgemm('N', 'T', block, length, static_cast<dnnl_dim_t>(d), scale, q + task.first_row * 3 * hidden, ld, k, ld,
               0.0f, scores.data(), length);
    inverse_sums.resize(rows);
    unnormalized_softmax_rows(scores.data(), rows, n, inverse_sums.data());
    float* out = context + (batch.offsets[task.sequence] + task.first_row) * hidden + task.head * d;
    dnnl_sgemm('N', 'N', block, static_cast<dnnl_dim_t>(d), length, 1.0f, scores.data(), length, v, ld, 0.0f, out,
               static_cast<dnnl_dim_t>(hidden));
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < d; ++c) out[r * hidden + c] *= inverse_sums[r];
    }
  }
}

void pool_cls(const float* hidden_states, const TokenBatch& batch, size_t cols, float* out) {
  for (size_t s = 0; s < batch.size(); ++s) {
    std::copy_n(hidden_states + batch.offsets[s] * cols, cols, out + s * cols);
  }
}

void pool_mean(const float* hidden_states, const TokenBatch& batch, size_t cols, float* out) {
  for (size_t s = 0; s < batch.size(); ++s) {
    float* row = out + s * cols;
    std::fill_n(row, cols, 0.0f);
    for (size_t t = batch.offsets[s]; t < batch.offsets[s + 1]; ++t) {
      for (size_t c = 0; c < cols; ++c) row[c] += hidden_states[t * cols + c];
    }
    const float inv = 1.0f / static_cast<float>(batch.length(s));
    for (size_t c = 0; c < cols; ++c) row[c] *= inv;
  }
}

void l2_normalize(float* rows, size_t count, size_t cols) {
  for (size_t r = 0; r < count; ++r) {
    float* row = rows + r * cols;
    float sum = 0.0f;
    for (size_t c = 0; c < cols; ++c) sum += row[c] * row[c];
    const float inv = 1.0f / std::max(std::sqrt(sum), 1e-12f);
    for (size_t c = 0; c < cols; ++c) row[c] *= inv;
  }
}

}  // namespace inferd::engine::cpu
