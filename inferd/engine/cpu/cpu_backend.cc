#include "inferd/engine/cpu/cpu_backend.h"

#include <omp.h>

#include <algorithm>
#include <optional>

#include "inferd/engine/cpu/kernels.h"
#include "inferd/engine/cpu/linear.h"

namespace inferd::engine::cpu {

namespace {

struct Layer {
  Linear qkv;
  Linear attention_output;
  Linear intermediate;
  Linear output;
};

class CpuBackend final : public EncoderBackend {
 public:
  CpuBackend(std::shared_ptr<const model::BertWeights> weights, const EncoderOptions& options)
      : weights_(std::move(weights)), threads_(static_cast<int>(std::max<size_t>(options.threads, 1))) {
    for (const auto& layer : weights_->layers) {
      layers_.push_back(Layer{Linear({&layer.query, &layer.key, &layer.value}, options.precision),
                              Linear({&layer.attention_output}, options.precision),
                              Linear({&layer.intermediate}, options.precision),
                              Linear({&layer.output}, options.precision)});
    }
    if (weights_->pooler) {
      pooler_.emplace(std::vector{&*weights_->pooler}, WeightPrecision::f32);
      classifier_.emplace(std::vector{&*weights_->classifier}, WeightPrecision::f32);
    }
  }

  std::string_view name() const override { return "cpu"; }

  std::vector<float> embed(const TokenBatch& batch, model::Pooling pooling, bool normalize) override {
    const size_t h = weights_->config.hidden_size;
    std::vector<float> hidden = encode(batch);
    std::vector<float> pooled(batch.size() * h);
    if (pooling == model::Pooling::mean) {
      pool_mean(hidden.data(), batch, h, pooled.data());
    } else {
      pool_cls(hidden.data(), batch, h, pooled.data());
    }
    if (normalize) l2_normalize(pooled.data(), batch.size(), h);
    return pooled;
  }

  std::vector<float> classify(const TokenBatch& batch) override {
    const size_t h = weights_->config.hidden_size;
    std::vector<float> hidden = encode(batch);
    std::vector<float> cls(batch.size() * h), pooled(batch.size() * h);
    pool_cls(hidden.data(), batch, h, cls.data());
    pooler_->multiply(cls.data(), batch.size(), pooled.data());
    add_bias_tanh(pooled.data(), pooler_->bias(), batch.size(), h);
    std::vector<float> logits(batch.size() * classifier_->out());
    classifier_->multiply(pooled.data(), batch.size(), logits.data());
    for (size_t s = 0; s < batch.size(); ++s) {
      for (size_t l = 0; l < classifier_->out(); ++l) logits[s * classifier_->out() + l] += classifier_->bias()[l];
    }
    return logits;
  }

 private:
  // Last hidden states, one row per token.
  std::vector<float> encode(const TokenBatch& batch) {
    omp_set_num_threads(threads_);  // per calling thread; oneDNN's GEMMs follow it
    const model::BertConfig& config = weights_->config;
    const size_t tokens = batch.tokens(), h = config.hidden_size;
    std::vector<float> x(tokens * h), qkv(tokens * 3 * h), context(tokens * h), projected(tokens * h),
        inner(tokens * config.intermediate_size);
    embed_tokens(*weights_, batch, x.data(), threads_);
    for (size_t l = 0; l < layers_.size(); ++l) {
      const Layer& layer = layers_[l];
      const model::BertLayerWeights& source = weights_->layers[l];
      layer.qkv.multiply(x.data(), tokens, qkv.data());
      add_bias(qkv.data(), layer.qkv.bias(), tokens, 3 * h, threads_);
      self_attention(qkv.data(), context.data(), batch, h, config.num_heads, threads_);
      layer.attention_output.multiply(context.data(), tokens, projected.data());
      add_bias_residual_layer_norm(x.data(), projected.data(), layer.attention_output.bias(), source.attention_norm,
                                   tokens, h, config.layer_norm_eps, threads_);
      layer.intermediate.multiply(x.data(), tokens, inner.data());
      add_bias_activation(inner.data(), layer.intermediate.bias(), config.activation, tokens, config.intermediate_size,
                          threads_);
      layer.output.multiply(inner.data(), tokens, projected.data());
      add_bias_residual_layer_norm(x.data(), projected.data(), layer.output.bias(), source.output_norm, tokens, h,
                                   config.layer_norm_eps, threads_);
    }
    return x;
  }

  std::shared_ptr<const model::BertWeights> weights_;
  int threads_;
  std::vector<Layer> layers_;
  std::optional<Linear> pooler_;
  std::optional<Linear> classifier_;
};

}  // namespace

std::unique_ptr<EncoderBackend> make_cpu_backend(std::shared_ptr<const model::BertWeights> weights,
                                                 const EncoderOptions& options) {
  return std::make_unique<CpuBackend>(std::move(weights), options);
}

}  // namespace inferd::engine::cpu
