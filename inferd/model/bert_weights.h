#pragma once

#include <optional>
#include <vector>

#include "common/result/result.h"
#include "inferd/model/bert_config.h"
#include "inferd/model/dense_weights.h"
#include "inferd/model/safetensors_file.h"

namespace tpustack::inferd::model {

struct LayerNormWeights {
  std::vector<float> gamma;
  std::vector<float> beta;
};

struct BertLayerWeights {
  DenseWeights query, key, value, attention_output;
  LayerNormWeights attention_norm;
  DenseWeights intermediate, output;
  LayerNormWeights output_norm;
};

struct BertWeights {
  BertConfig config;
  std::vector<float> word_embeddings;      // [vocab, hidden]
  std::vector<float> position_embeddings;  // [max_positions, hidden]
  std::vector<float> type_embeddings;      // [type_vocab, hidden]
  LayerNormWeights embedding_norm;
  std::vector<BertLayerWeights> layers;
  std::optional<DenseWeights> pooler;      // sequence classification only
  std::optional<DenseWeights> classifier;  // [num_labels, hidden]
};

// Reads every tensor config implies, accepting names with or without the `bert.` prefix.
Result<BertWeights> load_bert_weights(const SafetensorsFile& file, const BertConfig& config);

}  // namespace tpustack::inferd::model
