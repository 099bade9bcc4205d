#pragma once

#include <memory>

#include "inferd/engine/encoder_backend.h"
#include "inferd/model/bert_weights.h"

namespace inferd::engine::cpu {

// The CPU encoder: oneDNN GEMMs and OpenMP kernels, `threads` threads per call, no work on padding.
std::unique_ptr<EncoderBackend> make_cpu_backend(std::shared_ptr<const model::BertWeights> weights,
                                                 const EncoderOptions& options);

}  // namespace inferd::engine::cpu
