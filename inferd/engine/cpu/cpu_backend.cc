#include "inferd/engine/cpu/cpu_backend.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "inferd/engine/cpu/kernels.h"
#include "inferd/engine/cpu/linear.h"
#include "inferd/engine/cpu/scratch.h"

namespace tpustack::inferd::engine::cpu {

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
      // The two products followed by a layer norm leave their bias to it; the others add theirs in their own pass.
      layers_.push_back(Layer{
          Linear({&layer.query, &layer.key, &layer.value}, options.precision, {.bias = true}),
          Linear({&layer.attention_output}, options.precision),
          Linear({&layer.intermediate}, options.precision, {.bias = true, .activation = weights_->config.activation}),
          Linear({&layer.output}, options.precision)});
    }
    if (weights_->pooler) {
      pooler_.emplace(std::vector{&*weights_->pooler}, WeightPrecision::f32);
      classifier_.emplace(std::vector{&*weights_->classifier}, WeightPrecision::f32);
    }
  }

  std::string_view name() const override { return "cpu"; }

  std::string kernel() const override {
    std::string kernels;
    for (const Linear* linear : {&layers_.front().qkv, &layers_.front().intermediate}) {
      if (kernels.find(linear->kernel()) == std::string::npos)
        kernels += (kernels.empty() ? "" : ",") + linear->kernel();
    }
    return cpu_isa_name() + " " + kernels;
  }

  Result<std::vector<float>> embed(const TokenBatch& batch, model::Pooling pooling, bool normalize) override {
    const size_t h = weights_->config.hidden_size;
    const float* hidden = encode(batch);
    std::vector<float> pooled(batch.size() * h);
    if (pooling == model::Pooling::mean) {
      pool_mean(hidden, batch, h, pooled.data());
    } else {
      pool_cls(hidden, batch, h, pooled.data());
    }
    if (normalize) l2_normalize(pooled.data(), batch.size(), h);
    return pooled;
  }

  Result<std::vector<float>> classify(const TokenBatch& batch) override {
    const size_t h = weights_->config.hidden_size;
    const float* hidden = encode(batch);
    std::vector<float> cls(batch.size() * h), pooled(batch.size() * h);
    pool_cls(hidden, batch, h, cls.data());
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
  // Last hidden states, one row per token, valid until the next call.
  //
  // One parallel region for the whole pass, each thread owning a contiguous share of the batch's token rows: every
  // product and element-wise step of a layer runs on the thread's own rows with a serial GEMM, and only attention,
  // which reads the keys and values of every row, needs the threads to meet: once before it and once after (a
  // meeting costs a short spin or, past it, a futex wake-up: see main.cc). After attention a thread takes its rows
  // a block at a time through the output projection, the feed-forward products and both norms, so the block's
  // 4h-wide intermediate stays in the core's cache instead of going out to memory and back between the products
  // (the int8 and bf16 products are fast enough for that traffic to dominate).
  const float* encode(const TokenBatch& batch) {
    omp_set_num_threads(threads_);  // per calling thread; the pooler's products after the region follow it
    const model::BertConfig& config = weights_->config;
    const size_t tokens = batch.tokens(), h = config.hidden_size, inner_size = config.intermediate_size;
    const auto threads = static_cast<size_t>(threads_);
    float* x = x_.get(tokens * h);
    float* qkv = qkv_.get(tokens * 3 * h);
    float* context = context_.get(tokens * h);
    float* projected = projected_.get(threads * block_rows * h);
    float* inner = inner_.get(threads * block_rows * inner_size);
    const std::vector<AttentionTask> tasks = attention_tasks(batch, config.num_heads);
#pragma omp parallel num_threads(threads_)
    {
      // The team OpenMP gave, which may be smaller than asked (OMP_THREAD_LIMIT).
      const auto team = static_cast<size_t>(omp_get_num_threads());
      const auto thread = static_cast<size_t>(omp_get_thread_num());
      const size_t first = tokens * thread / team, rows = tokens * (thread + 1) / team - first;
      float* own_x = x + first * h;
      float* own_projected = projected + thread * block_rows * h;
      float* own_inner = inner + thread * block_rows * inner_size;
      embed_tokens(*weights_, batch, first, rows, own_x);
      for (size_t l = 0; l < layers_.size(); ++l) {
        const Layer& layer = layers_[l];
        const model::BertLayerWeights& source = weights_->layers[l];
        layer.qkv.multiply(own_x, rows, qkv + first * 3 * h);
#pragma omp barrier
        self_attention(qkv, context, batch, tasks, h, config.num_heads);
        for (size_t start = 0; start < rows; start += block_rows) {
          const size_t count = std::min(block_rows, rows - start);
          float* block_x = own_x + start * h;
          layer.attention_output.multiply(context + (first + start) * h, count, own_projected);
          add_bias_residual_layer_norm(block_x, own_projected, layer.attention_output.bias(), source.attention_norm,
                                       count, h, config.layer_norm_eps);
          layer.intermediate.multiply(block_x, count, own_inner);
          layer.output.multiply(own_inner, count, own_projected);
          add_bias_residual_layer_norm(block_x, own_projected, layer.output.bias(), source.output_norm, count, h,
                                       config.layer_norm_eps);
        }
      }
    }
    return x;
  }

  static constexpr size_t block_rows = 128;

  std::shared_ptr<const model::BertWeights> weights_;
  int threads_;
  std::vector<Layer> layers_;
  std::optional<Linear> pooler_;
  std::optional<Linear> classifier_;
  Scratch x_, qkv_, context_, projected_, inner_;  // activations; one call at a time (EncoderBackend)
};

}  // namespace

Result<std::unique_ptr<EncoderBackend>> make_cpu_backend(std::shared_ptr<const model::BertWeights> weights,
                                                         const EncoderOptions& options) {
  if (options.precision == WeightPrecision::bf16 && !has_native_bf16()) {
    return Error{"the bf16 variant needs a CPU with bf16 products (AVX512_BF16 or AMX-BF16); this one offers " +
                 cpu_isa_name() + ": use f32, i8 or auto"};
  }
  try {
    return std::unique_ptr<EncoderBackend>(std::make_unique<CpuBackend>(std::move(weights), options));
  } catch (const dnnl::error& e) {
    return Error{fmt::format("oneDNN has no {} matrix product for this CPU ({}): {}", precision_name(options.precision),
                             cpu_isa_name(), e.what())};
  }
}

}  // namespace tpustack::inferd::engine::cpu
