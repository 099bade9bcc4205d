#pragma once

#include <memory>
#include <string>

#include "common/result/result.h"
#include "inferd/engine/encoder_backend.h"
#include "inferd/engine/pjrt/pjrt_runtime.h"
#include "inferd/model/bert_weights.h"
#include "inferd/model/model_directory.h"

namespace tpustack::inferd::engine::pjrt {

struct PjrtEncoderOptions {
  WeightPrecision precision = WeightPrecision::bf16;  // f32 or bf16
  size_t max_batch = 32;                              // the largest batch bucket; larger batches run in several
  bool warmup = false;                                // compile every bucket now rather than at its first batch
  model::Pooling pooling = model::Pooling::cls;       // what the warm-up compiles for (the server normalises itself)
  std::string model_digest;                           // what the compile cache keys the model by
};

// Runs a BERT encoder on a PJRT plugin's devices: the forward pass as StableHLO (encoder_program.h) compiled once per
// bucket (encoder_buckets.h) through the runtime's compile cache, the weights resident on every device as parameters,
// each batch spread over the devices as data-parallel replicas. Fails, with the plugin's words, when the weights do
// not fit a device or a warm-up compile fails.
Result<std::unique_ptr<EncoderBackend>> make_pjrt_encoder_backend(std::shared_ptr<const model::BertWeights> weights,
                                                                  std::shared_ptr<PjrtRuntime> runtime,
                                                                  const PjrtEncoderOptions& options);

}  // namespace tpustack::inferd::engine::pjrt
