#pragma once

// The BERT encoder and its head as one StableHLO program, MLIR text for a PJRT plugin to compile (issue 15). Shapes
// are static, one program per (batch, sequence) bucket; every weight is a parameter, never a constant, so that one
// set of device buffers serves every bucket and the text stays small. The text is deterministic: the same arguments
// give the same bytes, which a compile cache may key on.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/encoder_buckets.h"
#include "inferd/engine/pjrt/program_parameters.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/model/bert_config.h"
#include "inferd/model/bert_weights.h"
#include "inferd/model/model_directory.h"

namespace tpustack::inferd::engine::pjrt {

// One embedding per sequence: the CLS row or the mean over its real tokens, then L2 normalisation when asked.
struct EmbeddingHead {
  model::Pooling pooling = model::Pooling::cls;
  bool normalize = false;
};
// Sequence-classification logits: the pooler (dense + tanh) on the CLS row, then the classifier's num_labels.
struct ClassifierHead {};
using EncoderHead = std::variant<EmbeddingHead, ClassifierHead>;

// A weight parameter, named and shaped as model::BertWeights holds it.
using EncoderParameter = ProgramParameter;

// The weight parameters, in the order the program takes them after its three inputs. Their element type is the
// program's precision: f32, or bf16 (values rounded to nearest even, as PjrtClient::buffer_from_host_bf16 takes).
std::vector<EncoderParameter> encoder_parameters(const model::BertConfig& config, const EncoderHead& head);

// The values of those parameters in `weights`, in the same order, for uploading once as device buffers. Fails when
// `weights` lacks a tensor the head needs or holds one of another size than its config implies.
Result<std::vector<std::span<const float>>> encoder_weight_values(const model::BertWeights& weights,
                                                                  const EncoderHead& head);

// A module whose func.func public @main takes, for bucket (B, S):
//   input_ids       tensor<BxSxi32>
//   token_type_ids  tensor<BxSxi32>
//   attention_mask  tensor<BxSxf32>  1 for a real token, 0 for padding (padding rows too: all 0)
//   then encoder_parameters(config, head), in f32 or bf16
// and returns one tensor<BxHxf32> of embeddings (EmbeddingHead) or tensor<BxLxf32> of logits (ClassifierHead, L =
// num_labels). Padding keys get no attention and mean pooling ignores padding, so a real row's result does not depend
// on the padding around it. bf16 multiplies bf16 operands into f32 results; layer norms, softmax, the activation,
// pooling and normalisation stay in f32. Fails for i8, a bucket longer than the position table or empty, a head the
// config has no weights for, or a hidden size the heads do not divide.
Result<std::string> encoder_program(const model::BertConfig& config, EncoderBucket bucket, const EncoderHead& head,
                                    WeightPrecision precision);

}  // namespace tpustack::inferd::engine::pjrt
