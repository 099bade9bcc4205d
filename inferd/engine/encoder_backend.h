#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/token_batch.h"
#include "inferd/engine/weight_precision.h"
#include "inferd/model/model_directory.h"

namespace tpustack::inferd::engine {

struct EncoderOptions {
  size_t threads = 1;
  WeightPrecision precision = WeightPrecision::f32;
};

// Runs a BERT encoder and its head on one device. The CPU backend is one; the PJRT backend (TPU, GPU) the other.
// Batches arrive validated (ids, type ids and lengths within the model's limits, no empty sequence); one call at a
// time. A device that fails (out of memory, a device error) is an Error the request gets.
class EncoderBackend {
 public:
  virtual ~EncoderBackend() = default;

  virtual std::string_view name() const = 0;
  // What runs the products on this machine, for /info and `inferd bench` ("cpu avx512_core_amx brg:...").
  virtual std::string kernel() const = 0;
  // One row of hidden_size floats per sequence: CLS or mean pooling, then L2 normalisation when asked.
  virtual Result<std::vector<float>> embed(const TokenBatch& batch, model::Pooling pooling, bool normalize) = 0;
  // Sequence-classification logits, num_labels per sequence (pooler + classifier).
  virtual Result<std::vector<float>> classify(const TokenBatch& batch) = 0;
};

}  // namespace tpustack::inferd::engine
