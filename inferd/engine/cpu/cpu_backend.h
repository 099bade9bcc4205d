#pragma once

#include <memory>

#include "common/result/result.h"
#include "inferd/engine/encoder_backend.h"
#include "inferd/model/bert_weights.h"

namespace tpustack::inferd::engine::cpu {

// The CPU encoder: oneDNN matmul primitives and OpenMP kernels, `threads` threads per call, no work on padding.
// Fails, naming the CPU's instruction set, for bf16 where the CPU has no bf16 products of its own (oneDNN would
// emulate them at a quarter of fp32's speed, or find no kernel at all).
Result<std::unique_ptr<EncoderBackend>> make_cpu_backend(std::shared_ptr<const model::BertWeights> weights,
                                                         const EncoderOptions& options);

}  // namespace tpustack::inferd::engine::cpu
