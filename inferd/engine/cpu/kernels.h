#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "inferd/engine/token_batch.h"
#include "inferd/model/bert_config.h"
#include "inferd/model/bert_weights.h"

// Element-wise and row-wise CPU kernels of the BERT forward pass. Each works serially on the rows it is given:
// the backend hands every thread its own rows (see cpu_backend.cc).
namespace tpustack::inferd::engine::cpu {

// out[t - first] = LayerNorm(word[id] + position[t - sequence start] + type[type id]) for tokens
// first .. first + count - 1 of the batch.
void embed_tokens(const model::BertWeights& weights, const TokenBatch& batch, size_t first, size_t count, float* out);

// x[r] = LayerNorm(x[r] + y[r] + bias); the residual connection and bias folded into the norm's pass.
void add_bias_residual_layer_norm(float* x, const float* y, const float* bias, const model::LayerNormWeights& norm,
                                  size_t rows, size_t cols, float eps);

// x[r] = activation(x[r] * row_scales[r] + bias) for rows of cols floats, stride floats apart: the epilogue of an
// int8 product, whose per-row activation scales oneDNN has no place for. No row scales means 1, no bias 0, no
// activation the identity.
void scale_bias_activation(float* x, const float* row_scales, const float* bias,
                           std::optional<model::Activation> activation, size_t rows, size_t cols, size_t stride);
void add_bias_tanh(float* x, const float* bias, size_t rows, size_t cols);

// The inputs of bf16 and int8 products: count floats rounded to bf16 (nearest even), and rows quantised to int8
// symmetrically with one scale per row (max |x| / 127).
void round_to_bf16(const float* x, size_t count, uint16_t* out);
void quantize_rows(const float* x, size_t rows, size_t cols, int8_t* out, float* scales);

// One unit of attention work: a block of query rows of one head of one sequence.
struct AttentionTask {
  size_t sequence, head, first_row;
};

// The batch's attention work, longest sequences first so that a dynamic schedule ends evenly.
std::vector<AttentionTask> attention_tasks(const TokenBatch& batch, size_t heads);

// Scaled dot-product attention of every sequence with itself only (no padding): qkv rows hold [q | k | v] of
// width 3 * hidden, context rows receive hidden values. Called by every thread of a parallel region, which share
// the tasks out among themselves (an OpenMP worksharing loop, so it ends with a barrier); called outside one, it
// does all of them.
void self_attention(const float* qkv, float* context, const TokenBatch& batch, const std::vector<AttentionTask>& tasks,
                    size_t hidden, size_t heads);

// One row per sequence: the CLS row or the mean over the sequence's tokens.
void pool_cls(const float* hidden_states, const TokenBatch& batch, size_t cols, float* out);
void pool_mean(const float* hidden_states, const TokenBatch& batch, size_t cols, float* out);
void l2_normalize(float* rows, size_t count, size_t cols);

}  // namespace tpustack::inferd::engine::cpu
