#include "inferd/model/decoder_weights.h"

#include <string>

namespace tpustack::inferd::model {

namespace {

// Reads tensors until the first Error, which it keeps: the loader reads on unconditionally and asks once at the end.
class TensorReads {
 public:
  explicit TensorReads(const SafetensorsShards& shards) : shards_(shards) {}

  void read(const std::string& name, std::vector<size_t> shape, std::vector<float>& out) {
    if (error_) return;
    auto values = shards_.read_f32(name, shape);
    if (!values) {
      error_ = values.error();
      return;
    }
    out = std::move(values).value();
  }
  void dense(const std::string& name, size_t out, size_t in, bool bias, DenseWeights& weights) {
    weights.out = out;
    weights.in = in;
    read(name + ".weight", {out, in}, weights.weight);
    if (bias) read(name + ".bias", {out}, weights.bias);
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  const SafetensorsShards& shards_;
  std::optional<Error> error_;
};

}  // namespace

Result<DecoderWeights> load_decoder_weights(const SafetensorsShards& shards, const DecoderConfig& config) {
  TensorReads reads(shards);
  const size_t h = config.hidden_size, inner = config.intermediate_size;
  const size_t q_size = config.num_heads * config.head_dim, kv_size = config.num_kv_heads * config.head_dim;
  DecoderWeights w;
  w.config = config;
  reads.read("model.embed_tokens.weight", {config.vocab_size, h}, w.embed_tokens);
  w.layers.resize(config.num_layers);
  for (size_t i = 0; i < config.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    DecoderLayerWeights& layer = w.layers[i];
    reads.read(p + "input_layernorm.weight", {h}, layer.input_norm);
    reads.dense(p + "self_attn.q_proj", q_size, h, config.qkv_bias, layer.q);
    reads.dense(p + "self_attn.k_proj", kv_size, h, config.qkv_bias, layer.k);
    reads.dense(p + "self_attn.v_proj", kv_size, h, config.qkv_bias, layer.v);
    reads.dense(p + "self_attn.o_proj", h, q_size, config.output_bias, layer.o);
    reads.read(p + "post_attention_layernorm.weight", {h}, layer.post_attention_norm);
    reads.dense(p + "mlp.gate_proj", inner, h, false, layer.gate);
    reads.dense(p + "mlp.up_proj", inner, h, false, layer.up);
    reads.dense(p + "mlp.down_proj", h, inner, false, layer.down);
  }
  reads.read("model.norm.weight", {h}, w.final_norm);
  if (!config.tie_word_embeddings) reads.dense("lm_head", config.vocab_size, h, false, w.lm_head.emplace());
  if (reads.error()) return *reads.error();
  return w;
}

Result<DecoderCheckpoint> read_decoder_checkpoint(const std::filesystem::path& directory) {
  if (!std::filesystem::is_directory(directory)) return Error{directory.string() + " is not a directory"};
  auto config = read_decoder_config(directory / "config.json");
  if (!config) return config.error();
  auto generation = read_generation_config(directory, *config);
  if (!generation) return generation.error();
  auto shards = SafetensorsShards::open(directory);
  if (!shards) return shards.error();
  auto weights = load_decoder_weights(*shards, *config);
  if (!weights) return weights.error();
  return DecoderCheckpoint{std::move(weights).value(), std::move(generation).value()};
}

}  // namespace tpustack::inferd::model
