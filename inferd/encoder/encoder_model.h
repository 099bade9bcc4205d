#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/encoder_backend.h"
#include "inferd/engine/pjrt/pjrt_encoder_backend.h"
#include "inferd/model/model_directory.h"
#include "inferd/tokenizer/tokenizer.h"

namespace tpustack::inferd {

struct LoadOptions {
  size_t threads = 1;
  // None: `--variant auto`, the fastest variant that meets its accuracy bar on a calibration batch on this CPU (on a
  // PJRT device: bf16).
  std::optional<engine::WeightPrecision> precision = engine::WeightPrecision::f32;
};

// Where an encoder runs when not on the CPU: a PJRT plugin's devices.
struct PjrtPlacement {
  std::shared_ptr<engine::pjrt::PjrtRuntime> runtime;  // none: the CPU
  engine::pjrt::PjrtEncoderOptions options;  // its precision comes from LoadOptions, its pooling from the model
};

enum class ModelKind { embedding, reranker };

// One vector of `dimensions` floats per input, in input order.
struct Embeddings {
  size_t dimensions = 0;
  std::vector<float> values;

  size_t size() const { return dimensions ? values.size() / dimensions : 0; }
  std::span<const float> row(size_t i) const { return {values.data() + i * dimensions, dimensions}; }
};

// A loaded BERT-family model ready to embed or rerank: what the server calls. Not safe for concurrent calls; the
// server's batcher owns it.
class EncoderModel {
 public:
  static Result<EncoderModel> load(const std::filesystem::path& directory, const LoadOptions& options,
                                   const PjrtPlacement& pjrt = {});

  ModelKind kind() const;
  const model::BertConfig& config() const { return directory_->weights.config; }
  size_t dimensions() const { return directory_->weights.config.hidden_size; }
  size_t max_length() const { return directory_->weights.config.max_positions; }
  const tokenizer::Tokenizer& tokenizer() const { return directory_->tokenizer; }
  // The instruction set and oneDNN kernel the products run on ("avx512_core_amx brg:avx512_core_amx").
  std::string kernel() const { return backend_->kernel(); }
  engine::WeightPrecision precision() const { return precision_; }

  // [CLS] text [SEP], truncated to the model's maximum length.
  Result<tokenizer::Encoding> tokenize(std::string_view text) const;

  Result<Embeddings> embed(const std::vector<std::string>& texts);
  Result<Embeddings> embed(const std::vector<tokenizer::Encoding>& encodings);
  // The pooled vectors, L2-normalised only when `normalize` (whatever the model's Normalize module says): the
  // server normalises after Matryoshka truncation, or not at all when the client asks for raw vectors.
  Result<Embeddings> embed(const std::vector<tokenizer::Encoding>& encodings, bool normalize);

  // One relevance logit per document (the classifier's first label), in document order.
  Result<std::vector<float>> rerank(std::string_view query, const std::vector<std::string>& documents);
  Result<std::vector<float>> rerank(const std::vector<tokenizer::Encoding>& pairs);
  // Every label's logit per sequence (single texts or pairs): `dimensions` is the number of labels.
  Result<Embeddings> classify(const std::vector<tokenizer::Encoding>& sequences);

 private:
  EncoderModel(std::shared_ptr<model::ModelDirectory> directory, std::unique_ptr<engine::EncoderBackend> backend,
               engine::WeightPrecision precision);
  Result<engine::TokenBatch> batch(const std::vector<tokenizer::Encoding>& encodings) const;

  std::shared_ptr<model::ModelDirectory> directory_;
  std::unique_ptr<engine::EncoderBackend> backend_;
  engine::WeightPrecision precision_;
};

}  // namespace tpustack::inferd
