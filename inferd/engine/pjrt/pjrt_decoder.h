#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/result/result.h"
#include "inferd/engine/pjrt/decoder_buckets.h"
#include "inferd/engine/pjrt/pjrt_runtime.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/generation/decode_step.h"
#include "inferd/model/decoder_weights.h"

namespace tpustack::inferd::engine::pjrt {

struct PjrtDecoderOptions {
  WeightPrecision precision = WeightPrecision::bf16;  // f32 or bf16
  size_t max_batch = 64;                              // sequences in one step (vLLM's max_num_seqs)
  size_t max_tokens = 512;                            // tokens in one step (max_num_batched_tokens)
  bool warmup = false;       // compile DecoderBucketSeries::warm_buckets() now rather than at first use
  std::string model_digest;  // what the compile cache keys the model by
};

// A Llama-family decoder's steps on a PJRT plugin's first device, what the continuous-batching engine calls as it
// calls the CPU decoder (DecoderModel::forward): the step as StableHLO (decoder_program.h) compiled once per bucket
// (decoder_buckets.h) through the runtime's compile cache, the weights and the paged KV cache resident on the device
// from step to step (each step's caches are the next one's, updated in place where the plugin aliases them), only
// token ids, positions, cache rows and logits crossing to and from the host. Not safe for concurrent calls.
class PjrtDecoder {
 public:
  // Fails, with the plugin's words, when the weights or the cache do not fit the device or a warm-up compile fails.
  static Result<std::unique_ptr<PjrtDecoder>> create(const model::DecoderWeights& weights,
                                                     std::shared_ptr<PjrtRuntime> runtime,
                                                     generation::KvCacheShape cache, const PjrtDecoderOptions& options);
  ~PjrtDecoder();

  // As DecoderModel::forward: the last token's logits of each chunk that wants them, in chunk order. A step that
  // does not fit is an Error with nothing run. When the device fails mid-step the cache starts afresh: the engine
  // ends every sequence it held.
  Result<void> forward(const generation::DecodeStep& step, float* logits);

  // "pjrt cuda NVIDIA H100 80GB HBM3 bf16".
  std::string kernel() const;

 private:
  struct State;
  explicit PjrtDecoder(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace tpustack::inferd::engine::pjrt
