#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::inferd::model {

enum class Activation { gelu, gelu_tanh, relu };
enum class BertHead { none, sequence_classification };

// The fields of a BERT-family config.json that shape the encoder.
struct BertConfig {
  size_t vocab_size = 0;
  size_t hidden_size = 0;
  size_t num_layers = 0;
  size_t num_heads = 0;
  size_t intermediate_size = 0;
  size_t max_positions = 0;
  size_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  Activation activation = Activation::gelu;
  BertHead head = BertHead::none;
  size_t num_labels = 1;
};

Result<BertConfig> read_bert_config(const std::filesystem::path& path);
// config.json's text; `source` names it in errors.
Result<BertConfig> parse_bert_config(std::string_view text, const std::string& source);

}  // namespace tpustack::inferd::model
