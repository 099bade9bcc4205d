#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "inferd/engine/token_batch.h"
#include "inferd/model/bert_config.h"
#include "inferd/model/bert_weights.h"

// Element-wise and row-wise CPU kernels of the BERT forward pass; each parallelises over rows with OpenMP.
namespace inferd::engine::cpu {

// out[t] = LayerNorm(word[id] + position[t - sequence start] + type[type id]).
void embed_tokens(const model::BertWeights& weights, const TokenBatch& batch, float* out, int threads);

// x[r] = LayerNorm(x[r] + y[r] + bias); the residual connection and bias folded into the norm's pass.
void add_bias_residual_layer_norm(float* x, const float* y, const float* bias, const model::LayerNormWeights& norm,
                                  size_t rows, size_t cols, float eps, int threads);

void add_bias(float* x, const float* bias, size_t rows, size_t cols, int threads);

// x[r] = activation(x[r] + bias).
void add_bias_activation(float* x, const float* bias, model::Activation activation, size_t rows, size_t cols,
                         int threads);
void add_bias_tanh(float* x, const float* bias, size_t rows, size_t cols);

// Scaled dot-product attention of every sequence with itself only (no padding): qkv rows hold [q | k | v] of
// width 3 * hidden, context rows receive hidden values.
void self_attention(const float* qkv, float* context, const TokenBatch& batch, size_t hidden, size_t heads,
                    int threads);

// One row per sequence: the CLS row or the mean over the sequence's tokens.
void pool_cls(const float* hidden_states, const TokenBatch& batch, size_t cols, float* out);
void pool_mean(const float* hidden_states, const TokenBatch& batch, size_t cols, float* out);
void l2_normalize(float* rows, size_t count, size_t cols);

}  // namespace inferd::engine::cpu
