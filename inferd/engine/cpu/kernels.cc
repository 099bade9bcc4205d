#include "inferd/engine/cpu/kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace tpustack::inferd::engine::cpu {

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

// 1 / v for v >= 1 without a division, whose vector form is slower than the whole erf around it: a first guess
// from the exponent bits (within 13 %) and three Newton steps (relative error below 1e-7).
template <class T>
inline T reciprocal_of_at_least_one(T v) {
  T r;
  if constexpr (std::is_same_v<T, float>) {
    r = std::bit_cast<float>(0x7EF311C3 - std::bit_cast<int32_t>(v));
  } else {
    r = reinterpret_cast<T>(0x7EF311C3 - reinterpret_cast<Ints16>(v));
  }
  for (int step = 0; step < 3; ++step) r = r * (2.0f - v * r);
  return r;
}

// Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7; for one float or 16.
template <class T>
inline T fast_erf(T x) {
  const T a = x < 0.0f ? -x : x;
  const T t = reciprocal_of_at_least_one(1.0f + 0.3275911f * a);
  const T poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const T y = 1.0f - poly * fast_exp_nonpositive(-a * a);
  return x < 0.0f ? -y : y;
}

enum class Epilogue { identity, gelu, gelu_tanh, relu };

// For one float or 16.
template <Epilogue E, class T>
__attribute__((always_inline)) inline T activate(T x) {
  if constexpr (E == Epilogue::gelu) return 0.5f * x * (1.0f + fast_erf(x * 0.707106781f));
  if constexpr (E == Epilogue::gelu_tanh) {
    const T u = 0.797884561f * (x + 0.044715f * x * x * x);
    const T e = fast_exp_nonpositive(-2.0f * (u < 0.0f ? -u : u));
    const T magnitude = (1.0f - e) * reciprocal_of_at_least_one(1.0f + e);
    return 0.5f * x * (1.0f + (u < 0.0f ? -magnitude : magnitude));
  }
  if constexpr (E == Epilogue::relu) return x < 0.0f ? T{} : x;
  return x;
}

// One loop per case on whole vectors, so that each runs without a branch inside, then the row's last floats.
template <Epilogue E>
__attribute__((always_inline)) inline void epilogue_rows(float* x, const float* row_scales, const float* bias,
                                                         size_t rows, size_t cols, size_t stride) {
  static const float zeros[floats16] = {};
  const size_t whole = cols / floats16 * floats16;
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * stride;
    const float scale = row_scales ? row_scales[r] : 1.0f;
    for (size_t c = 0; c < whole; c += floats16) {
      store16(row + c, activate<E>(load16(row + c) * scale + load16(bias ? bias + c : zeros)));
    }
    for (size_t c = whole; c < cols; ++c) row[c] = activate<E>(row[c] * scale + (bias ? bias[c] : 0.0f));
  }
}

INFERD_ROW_KERNEL void epilogue(float* x, const float* row_scales, const float* bias, Epilogue kind, size_t rows,
                                size_t cols, size_t stride) {
  switch (kind) {
    case Epilogue::gelu:
      return epilogue_rows<Epilogue::gelu>(x, row_scales, bias, rows, cols, stride);
    case Epilogue::gelu_tanh:
      return epilogue_rows<Epilogue::gelu_tanh>(x, row_scales, bias, rows, cols, stride);
    case Epilogue::relu:
      return epilogue_rows<Epilogue::relu>(x, row_scales, bias, rows, cols, stride);
    case Epilogue::identity:
      return epilogue_rows<Epilogue::identity>(x, row_scales, bias, rows, cols, stride);
  }
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

// Softmax of each of `rows` rows of n scores, `stride` apart, without its last step: row[i] = exp(row[i] - max),
// and 1 / sum in inverse_sums[r]. The caller scales the product of the rows with the values instead (head size d
// rather than length n multiplications).
INFERD_ROW_KERNEL void unnormalized_softmax_rows(float* scores, size_t rows, size_t n, size_t stride,
                                                 float* inverse_sums) {
  const size_t whole = n / floats16 * floats16;
  for (size_t r = 0; r < rows; ++r) {
    float* row = scores + r * stride;
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

// Rows r0 .. r0 + Rows - 1 of scale · Q Kᵀ, Width x 16 keys at a time from the transposed keys
// (keys_t[c * stride + j]): each query value loaded serves Width key vectors, each key vector all the tile's rows.
template <size_t Rows, size_t Width>
__attribute__((always_inline)) inline void score_columns(const float* q, size_t ld, const float* keys_t, size_t d,
                                                         size_t j, size_t stride, float scale, float* scores) {
  Floats16 sums[Rows][Width] = {};
  for (size_t c = 0; c < d; ++c) {
    Floats16 keys[Width];
    for (size_t w = 0; w < Width; ++w) keys[w] = load16(keys_t + c * stride + j + w * floats16);
    for (size_t t = 0; t < Rows; ++t) {
      const float query = q[t * ld + c];
      for (size_t w = 0; w < Width; ++w) sums[t][w] += query * keys[w];
    }
  }
  for (size_t t = 0; t < Rows; ++t) {
    for (size_t w = 0; w < Width; ++w) store16(scores + t * stride + j + w * floats16, sums[t][w] * scale);
  }
}

template <size_t Rows>
__attribute__((always_inline)) inline void score_tile(const float* q, size_t ld, const float* keys_t, size_t d,
                                                      size_t keys16, size_t stride, float scale, float* scores) {
  size_t j = 0;
  for (; j + 2 * floats16 <= keys16; j += 2 * floats16)
    score_columns<Rows, 2>(q, ld, keys_t, d, j, stride, scale, scores);
  if (j < keys16) score_columns<Rows, 1>(q, ld, keys_t, d, j, stride, scale, scores);
}

// Rows r0 .. r0 + Rows - 1 of P V / sum for Width x 16 columns of the head from column c: each probability loaded
// serves Width value vectors.
template <size_t Rows, size_t Width>
__attribute__((always_inline)) inline void value_columns(const float* probabilities, size_t stride,
                                                         const float* inverse_sums, const float* v, size_t ld, size_t n,
                                                         size_t c, float* out, size_t out_ld) {
  Floats16 sums[Rows][Width] = {};
  for (size_t j = 0; j < n; ++j) {
    Floats16 values[Width];
    for (size_t w = 0; w < Width; ++w) values[w] = load16(v + j * ld + c + w * floats16);
    for (size_t t = 0; t < Rows; ++t) {
      const float probability = probabilities[t * stride + j];
      for (size_t w = 0; w < Width; ++w) sums[t][w] += probability * values[w];
    }
  }
  for (size_t t = 0; t < Rows; ++t) {
    for (size_t w = 0; w < Width; ++w) store16(out + t * out_ld + c + w * floats16, sums[t][w] * inverse_sums[t]);
  }
}

// Rows r0 .. r0 + Rows - 1 of P V / sum: 32 columns of the head at a time, then 16, then one by one.
template <size_t Rows>
__attribute__((always_inline)) inline void value_tile(const float* probabilities, size_t stride,
                                                      const float* inverse_sums, const float* v, size_t ld, size_t n,
                                                      size_t d, float* out, size_t out_ld) {
  size_t c = 0;
  for (; c + 2 * floats16 <= d; c += 2 * floats16)
    value_columns<Rows, 2>(probabilities, stride, inverse_sums, v, ld, n, c, out, out_ld);
  if (c + floats16 <= d) {
    value_columns<Rows, 1>(probabilities, stride, inverse_sums, v, ld, n, c, out, out_ld);
    c += floats16;
  }
  for (size_t t = 0; t < Rows; ++t) {
    for (size_t column = c; column < d; ++column) {
      float sum = 0.0f;
      for (size_t j = 0; j < n; ++j) sum += probabilities[t * stride + j] * v[j * ld + column];
      out[t * out_ld + column] = sum * inverse_sums[t];
    }
  }
}

// Transposes 16 x 16 floats in registers: four rounds of swapping the off-diagonal blocks of 8, 4, 2 and 1. Row i
// (Block bit clear) keeps its own elements where k lacks the bit and takes row i + Block's k ^ Block where it has
// it; row i + Block the other way round.
template <size_t Block, size_t... K>
constexpr Ints16 upper_mask(std::index_sequence<K...>) {
  return Ints16{static_cast<int32_t>((K & Block) ? 16 + (K ^ Block) : K)...};
}
template <size_t Block, size_t... K>
constexpr Ints16 lower_mask(std::index_sequence<K...>) {
  return Ints16{static_cast<int32_t>((K & Block) ? 16 + K : (K ^ Block))...};
}

template <size_t Block>
__attribute__((always_inline)) inline void swap_blocks(Floats16 (&rows)[floats16]) {
  constexpr Ints16 upper = upper_mask<Block>(std::make_index_sequence<floats16>());
  constexpr Ints16 lower = lower_mask<Block>(std::make_index_sequence<floats16>());
  for (size_t i = 0; i < floats16; ++i) {
    if (i & Block) continue;
    const Floats16 a = rows[i], b = rows[i + Block];
    rows[i] = __builtin_shuffle(a, b, upper);
    rows[i + Block] = __builtin_shuffle(a, b, lower);
  }
}

__attribute__((always_inline)) inline void transpose16(Floats16 (&rows)[floats16]) {
  swap_blocks<8>(rows);
  swap_blocks<4>(rows);
  swap_blocks<2>(rows);
  swap_blocks<1>(rows);
}

// Attention of `rows` query rows of one head with the n keys and values of their sequence, fused: the keys
// (transposed, d x n padded to 16 with zeros) and the values are copied once into thread-local scratch, then each
// tile of query rows gets its scores, their softmax and the product with the values while the tile's scores are
// still in L1, with no GEMM call's packing. The tiles are inlined into each of its clones.
INFERD_ROW_KERNEL void attention_rows(const float* q, const float* k, const float* v, size_t ld, size_t n, size_t rows,
                                      size_t d, float* out, size_t out_ld) {
  constexpr size_t tile = 8;  // 8 independent multiply-add chains in flight
  // Rows of the transposed keys and of the scores an odd number of cache lines apart: an even number (512 keys:
  // 32 lines) maps a column's 32+ lines to a couple of L1 sets, which then evict each other on every pass.
  const size_t keys16 = (n + floats16 - 1) / floats16 * floats16;
  const size_t stride = keys16 + (keys16 / floats16 % 2 == 0 ? floats16 : 0);
  thread_local std::vector<float> keys_t, values, scores;
  keys_t.resize(std::max(keys_t.size(), d * stride));
  values.resize(std::max(values.size(), n * d));
  scores.resize(std::max(scores.size(), tile * stride));
  // The values are copied too: read in place, rows 3h floats apart map to a few L1 sets and evict each other on
  // every pass of the product.
  // The rows are far apart (3h floats), out of the hardware prefetchers' reach: each asks for a later one itself.
  constexpr size_t ahead = 8;
  const size_t whole = d / floats16 * floats16;
  // Whole 16 x 16 blocks of keys are transposed in registers, the rest (the last keys, a head size that is not a
  // multiple of 16) one by one; no load goes past the sequence's last row.
  const size_t key_blocks = n / floats16 * floats16;
  for (size_t j = 0; j < key_blocks; j += floats16) {
    for (size_t c = 0; c < whole; c += floats16) {
      Floats16 block[floats16];
      for (size_t r = 0; r < floats16; ++r) block[r] = load16(k + (j + r) * ld + c);
      transpose16(block);
      for (size_t r = 0; r < floats16; ++r) store16(&keys_t[(c + r) * stride + j], block[r]);
    }
  }
  for (size_t j = 0; j < n; ++j) {
    if (j + ahead < n) {
      for (size_t c = 0; c < d; c += floats16) {
        __builtin_prefetch(k + (j + ahead) * ld + c);
        __builtin_prefetch(v + (j + ahead) * ld + c);
      }
    }
    const float* key = k + j * ld;
    for (size_t c = j < key_blocks ? whole : 0; c < d; ++c) keys_t[c * stride + j] = key[c];
    const float* value = v + j * ld;
    float* copy = &values[j * d];
    for (size_t c = 0; c < whole; c += floats16) store16(copy + c, load16(value + c));
    for (size_t c = whole; c < d; ++c) copy[c] = value[c];
  }
  for (size_t c = 0; c < d; ++c) {
    std::fill(keys_t.begin() + static_cast<ptrdiff_t>(c * stride + n),
              keys_t.begin() + static_cast<ptrdiff_t>(c * stride + keys16), 0.0f);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  float* p = scores.data();
  float inverse_sums[tile];
  size_t r = 0;
  for (; r + tile <= rows; r += tile) {
    score_tile<tile>(q + r * ld, ld, keys_t.data(), d, keys16, stride, scale, p);
    unnormalized_softmax_rows(p, tile, n, stride, inverse_sums);
    value_tile<tile>(p, stride, inverse_sums, values.data(), d, n, d, out + r * out_ld, out_ld);
  }
  for (; r < rows; ++r) {
    score_tile<1>(q + r * ld, ld, keys_t.data(), d, keys16, stride, scale, p);
    unnormalized_softmax_rows(p, 1, n, stride, inverse_sums);
    value_tile<1>(p, stride, inverse_sums, values.data(), d, n, d, out + r * out_ld, out_ld);
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

void scale_bias_activation(float* x, const float* row_scales, const float* bias,
                           std::optional<model::Activation> activation, size_t rows, size_t cols, size_t stride) {
  const Epilogue kind = !activation                                   ? Epilogue::identity
                        : *activation == model::Activation::gelu      ? Epilogue::gelu
                        : *activation == model::Activation::gelu_tanh ? Epilogue::gelu_tanh
                                                                      : Epilogue::relu;
  epilogue(x, row_scales, bias, kind, rows, cols, stride);
}

INFERD_ROW_KERNEL void round_to_bf16(const float* x, size_t count, uint16_t* out) {
  for (size_t i = 0; i < count; ++i) {
    const auto bits = std::bit_cast<uint32_t>(x[i]);
    out[i] = static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  }
}

INFERD_ROW_KERNEL void quantize_rows(const float* x, size_t rows, size_t cols, int8_t* out, float* scales) {
  typedef int8_t Bytes16 __attribute__((vector_size(16)));
  const size_t whole = cols / floats16 * floats16;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    Floats16 maxes{};
    for (size_t c = 0; c < whole; c += floats16) {
      const Floats16 v = load16(row + c);
      const Floats16 magnitude = v < 0.0f ? -v : v;
      maxes = magnitude > maxes ? magnitude : maxes;
    }
    float max = 0.0f;
    for (size_t l = 0; l < floats16; ++l) max = std::max(max, maxes[l]);
    for (size_t c = whole; c < cols; ++c) max = std::max(max, std::fabs(row[c]));
    const float scale = max > 0.0f ? max / 127.0f : 1.0f;
    const float inverse = 1.0f / scale;
    // Adding and subtracting 1.5 * 2^23 rounds to nearest even; the conversions then only drop zero fractions.
    int8_t* quantized = out + r * cols;
    for (size_t c = 0; c < whole; c += floats16) {
      const Floats16 rounded = (load16(row + c) * inverse + 12582912.0f) - 12582912.0f;
      const Bytes16 bytes = __builtin_convertvector(__builtin_convertvector(rounded, Ints16), Bytes16);
      std::memcpy(quantized + c, &bytes, sizeof(bytes));
    }
    for (size_t c = whole; c < cols; ++c)
      quantized[c] = static_cast<int8_t>(static_cast<int32_t>((row[c] * inverse + 12582912.0f) - 12582912.0f));
    scales[r] = scale;
  }
}

void add_bias_tanh(float* x, const float* bias, size_t rows, size_t cols) {
  for (size_t i = 0; i < rows * cols; ++i) x[i] = std::tanh(x[i] + bias[i % cols]);
}

// Long sequences split across threads even at batch 1; shorter ones transpose their keys once per head.
constexpr size_t attention_task_rows = 256;

std::vector<AttentionTask> attention_tasks(const TokenBatch& batch, size_t heads) {
  std::vector<AttentionTask> tasks;
  for (size_t s = 0; s < batch.size(); ++s) {
    for (size_t head = 0; head < heads; ++head) {
      for (size_t row = 0; row < batch.length(s); row += attention_task_rows) tasks.push_back({s, head, row});
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
#pragma omp for schedule(dynamic, 1)
  for (size_t i = 0; i < tasks.size(); ++i) {
    const AttentionTask& task = tasks[i];
    const size_t n = batch.length(task.sequence);
    const float* q = qkv + batch.offsets[task.sequence] * 3 * hidden + task.head * d;
    float* out = context + (batch.offsets[task.sequence] + task.first_row) * hidden + task.head * d;
    attention_rows(q + task.first_row * 3 * hidden, q + hidden, q + 2 * hidden, 3 * hidden, n,
                   std::min(attention_task_rows, n - task.first_row), d, out, hidden);
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

}  // namespace tpustack::inferd::engine::cpu
