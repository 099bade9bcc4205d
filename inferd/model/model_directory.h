#pragma once

#include <filesystem>

#include "common/result/result.h"
#include "inferd/model/bert_weights.h"
#include "inferd/tokenizer/tokenizer.h"

namespace tpustack::inferd::model {

enum class Pooling { cls, mean };

// The sentence-transformers modules.json: the Pooling module's mode and whether a Normalize module follows.
struct PoolingChoice {
  Pooling pooling = Pooling::cls;
  bool normalize = false;
};

// CLS and no normalisation when the directory has no modules.json.
Result<PoolingChoice> read_pooling(const std::filesystem::path& directory);

// Everything a Hugging Face model directory says about serving it.
struct ModelDirectory {
  BertWeights weights;
  tokenizer::Tokenizer tokenizer;
  Pooling pooling = Pooling::cls;  // from 1_Pooling/config.json; CLS when the directory has no modules.json
  bool normalize = false;          // sentence-transformers Normalize module present
};

// Loads config.json, model.safetensors, tokenizer.json (or vocab.txt + tokenizer_config.json) and the
// sentence-transformers modules.json; errors name the file and, for weights, the tensor.
Result<ModelDirectory> load_model_directory(const std::filesystem::path& directory);

}  // namespace tpustack::inferd::model
