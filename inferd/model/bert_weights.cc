#include "inferd/model/bert_weights.h"

#include <string>

namespace tpustack::inferd::model {

namespace {

class TensorReader {
 public:
  TensorReader(const SafetensorsFile& file, std::string prefix) : file_(file), prefix_(std::move(prefix)) {}

  bool read(const std::string& name, std::vector<size_t> shape, std::vector<float>& out) {
    if (error_) return false;
    auto values = file_.read_f32(prefix_ + name, shape);
    if (!values) {
      error_ = values.error();
      return false;
    }
    out = std::move(values).value();
    return true;
  }
  void dense(const std::string& name, size_t out, size_t in, DenseWeights& weights) {
    weights.out = out;
    weights.in = in;
    read(name + ".weight", {out, in}, weights.weight);
    read(name + ".bias", {out}, weights.bias);
  }
  void layer_norm(const std::string& name, size_t size, LayerNormWeights& weights) {
    read(name + ".weight", {size}, weights.gamma);
    read(name + ".bias", {size}, weights.beta);
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  const SafetensorsFile& file_;
  std::string prefix_;
  std::optional<Error> error_;
};

}  // namespace

Result<BertWeights> load_bert_weights(const SafetensorsFile& file, const BertConfig& config) {
  const std::string prefix = file.contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  TensorReader encoder(file, prefix);
  const size_t h = config.hidden_size;
  BertWeights w;
  w.config = config;
  encoder.read("embeddings.word_embeddings.weight", {config.vocab_size, h}, w.word_embeddings);
  encoder.read("embeddings.position_embeddings.weight", {config.max_positions, h}, w.position_embeddings);
  encoder.read("embeddings.token_type_embeddings.weight", {config.type_vocab_size, h}, w.type_embeddings);
  encoder.layer_norm("embeddings.LayerNorm", h, w.embedding_norm);
  w.layers.resize(config.num_layers);
  for (size_t i = 0; i < config.num_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    BertLayerWeights& layer = w.layers[i];
    encoder.dense(p + "attention.self.query", h, h, layer.query);
    encoder.dense(p + "attention.self.key", h, h, layer.key);
    encoder.dense(p + "attention.self.value", h, h, layer.value);
    encoder.dense(p + "attention.output.dense", h, h, layer.attention_output);
    encoder.layer_norm(p + "attention.output.LayerNorm", h, layer.attention_norm);
    encoder.dense(p + "intermediate.dense", config.intermediate_size, h, layer.intermediate);
    encoder.dense(p + "output.dense", h, config.intermediate_size, layer.output);
    encoder.layer_norm(p + "output.LayerNorm", h, layer.output_norm);
  }
  if (config.head == BertHead::sequence_classification) {
    encoder.dense("pooler.dense", h, h, w.pooler.emplace());
    TensorReader head(file, "");
    head.dense("classifier", config.num_labels, h, w.classifier.emplace());
    if (head.error()) return *head.error();
  }
  if (encoder.error()) return *encoder.error();
  return w;
}

}  // namespace tpustack::inferd::model
