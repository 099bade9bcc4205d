#include "inferd/engine/pjrt/encoder_program.h"

#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "inferd/engine/pjrt/function_body.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

// ---------------------------------------------------------------------------------------------------- weights

// Every weight parameter in program order; `weights` (which may be null) supplies the values. The one list both
// encoder_parameters and encoder_weight_values read, so that the two cannot disagree.
std::vector<WeightEntry> weight_entries(const model::BertConfig& config, bool classifier,
                                        const model::BertWeights* weights) {
  const auto h = static_cast<int64_t>(config.hidden_size);
  const auto inner = static_cast<int64_t>(config.intermediate_size);
  std::vector<WeightEntry> entries;
  auto add = [&entries](std::string name, std::vector<int64_t> dims, const std::vector<float>* values) {
    entries.push_back({{std::move(name), std::move(dims)}, values});
  };
  auto dense = [&add](const std::string& name, int64_t out, int64_t in, const model::DenseWeights* dense) {
    add(name + "_weight", {out, in}, dense ? &dense->weight : nullptr);
    add(name + "_bias", {out}, dense ? &dense->bias : nullptr);
  };
  auto norm = [&add, h](const std::string& name, const model::LayerNormWeights* norm) {
    add(name + "_gamma", {h}, norm ? &norm->gamma : nullptr);
    add(name + "_beta", {h}, norm ? &norm->beta : nullptr);
  };

  add("word_embeddings", {static_cast<int64_t>(config.vocab_size), h}, weights ? &weights->word_embeddings : nullptr);
  add("position_embeddings", {static_cast<int64_t>(config.max_positions), h},
      weights ? &weights->position_embeddings : nullptr);
  add("token_type_embeddings", {static_cast<int64_t>(config.type_vocab_size), h},
      weights ? &weights->type_embeddings : nullptr);
  norm("embedding_norm", weights ? &weights->embedding_norm : nullptr);
  for (size_t l = 0; l < config.num_layers; ++l) {
    const model::BertLayerWeights* layer = weights ? &weights->layers[l] : nullptr;
    const std::string p = "layer" + std::to_string(l) + "_";
    dense(p + "query", h, h, layer ? &layer->query : nullptr);
    dense(p + "key", h, h, layer ? &layer->key : nullptr);
    dense(p + "value", h, h, layer ? &layer->value : nullptr);
    dense(p + "attention_output", h, h, layer ? &layer->attention_output : nullptr);
    norm(p + "attention_norm", layer ? &layer->attention_norm : nullptr);
    dense(p + "intermediate", inner, h, layer ? &layer->intermediate : nullptr);
    dense(p + "output", h, inner, layer ? &layer->output : nullptr);
    norm(p + "output_norm", layer ? &layer->output_norm : nullptr);
  }
  if (classifier) {
    dense("pooler", h, h, weights ? &*weights->pooler : nullptr);
    dense("classifier", static_cast<int64_t>(config.num_labels), h, weights ? &*weights->classifier : nullptr);
  }
  return entries;
}

bool is_classifier(const EncoderHead& head) { return std::holds_alternative<ClassifierHead>(head); }

using stablehlo::Element;
using stablehlo::FunctionBody;
using stablehlo::type_text;
using stablehlo::Value;

// ---------------------------------------------------------------------------------------------------- encoder

// The forward pass over one bucket, written into a FunctionBody. Activations are [B, S, H] f32 throughout.
class EncoderText {
 public:
  EncoderText(const model::BertConfig& config, EncoderBucket bucket, WeightPrecision precision,
              std::map<std::string, Value> parameters)
      : config_(config),
        b_(static_cast<int64_t>(bucket.batch)),
        s_(static_cast<int64_t>(bucket.sequence)),
        h_(static_cast<int64_t>(config.hidden_size)),
        heads_(static_cast<int64_t>(config.num_heads)),
        products_(precision == WeightPrecision::bf16 ? Element::bf16 : Element::f32),
        parameters_(std::move(parameters)) {}

  const std::string& body() const { return f_.text(); }

  // The last hidden states [B, S, H].
  Value encode(const Value& ids, const Value& type_ids, const Value& mask) {
    Value x = embed(ids, type_ids);
    // 0 for a real key, -1e9 for padding: exp() of it is 0 after the softmax's shift, and a row of padding alone
    // stays finite (every score equal), so no NaN reaches the real rows.
    const Value key_bias = f_.with_scalar("multiply", f_.with_scalar("subtract", mask, 1.0f), 1e9f);
    for (size_t l = 0; l < config_.num_layers; ++l) x = layer("layer" + std::to_string(l) + "_", x, key_bias);
    return x;
  }

  Value pool(const EmbeddingHead& head, const Value& hidden, const Value& mask) {
    Value pooled;
    if (head.pooling == model::Pooling::cls) {
      pooled = cls_rows(hidden);
    } else {
      const Value weighted = f_.binary("multiply", hidden, f_.broadcast(mask, {0, 1}, hidden.dims));
      const Value sums = f_.reduce("add", weighted, {1});
      // A padding row counts no tokens; at least 1 keeps it finite.
      const Value counts = f_.with_scalar("maximum", f_.reduce("add", mask, {1}), 1.0f);
      pooled = f_.binary("divide", sums, f_.broadcast(counts, {0}, sums.dims));
    }
    if (!head.normalize) return pooled;
    const Value norms = f_.unary("sqrt", f_.reduce("add", f_.binary("multiply", pooled, pooled), {1}));
    const Value floored = f_.with_scalar("maximum", norms, 1e-12f);  // as the CPU backend's l2_normalize
    return f_.binary("divide", pooled, f_.broadcast(floored, {0}, pooled.dims));
  }

  Value classify(const Value& hidden) {
    const Value pooled = f_.unary("tanh", dense("pooler", cls_rows(hidden)));
    return dense("classifier", pooled);
  }

 private:
  // A weight as f32, for the element-wise work.
  Value weight(const std::string& name) { return f_.convert(parameters_.at(name), Element::f32); }

  Value embed(const Value& ids, const Value& type_ids) {
    const std::vector<int64_t> x_dims{b_, s_, h_};
    const Value words =
        f_.convert(f_.gather_rows(parameters_.at("word_embeddings"), f_.reshape(ids, {b_, s_, 1})), Element::f32);
    const Value types = f_.convert(
        f_.gather_rows(parameters_.at("token_type_embeddings"), f_.reshape(type_ids, {b_, s_, 1})), Element::f32);
    const Value positions = f_.convert(f_.slice(parameters_.at("position_embeddings"), {0, 0}, {s_, h_}), Element::f32);
    const Value sum = f_.binary("add", f_.binary("add", words, types), f_.broadcast(positions, {1, 2}, x_dims));
    return layer_norm("embedding_norm", sum);
  }

  // x · Wᵀ + b over x's last dimension, W [out, in] as PyTorch stores it; x in f32, or already in the products' type.
  Value dense(const std::string& name, const Value& x) {
    const Value product = f_.dot(f_.convert(x, products_), parameters_.at(name + "_weight"), {}, {},
                                 {static_cast<int64_t>(x.dims.size()) - 1}, {1});
    const Value bias = weight(name + "_bias");
    return f_.binary("add", product, f_.broadcast(bias, {static_cast<int64_t>(product.dims.size()) - 1}, product.dims));
  }

  // Over the last dimension of [B, S, H], in f32.
  Value layer_norm(const std::string& name, const Value& x) {
    const float inverse_h = 1.0f / static_cast<float>(h_);
    const Value mean = f_.with_scalar("multiply", f_.reduce("add", x, {2}), inverse_h);
    const Value centered = f_.binary("subtract", x, f_.broadcast(mean, {0, 1}, x.dims));
    const Value variance =
        f_.with_scalar("multiply", f_.reduce("add", f_.binary("multiply", centered, centered), {2}), inverse_h);
    const Value inverse = f_.unary("rsqrt", f_.with_scalar("add", variance, config_.layer_norm_eps));
    const Value normed = f_.binary("multiply", centered, f_.broadcast(inverse, {0, 1}, x.dims));
    const Value scaled = f_.binary("multiply", normed, f_.broadcast(weight(name + "_gamma"), {2}, x.dims));
    return f_.binary("add", scaled, f_.broadcast(weight(name + "_beta"), {2}, x.dims));
  }

  Value layer(const std::string& p, const Value& x, const Value& key_bias) {
    const Value context = attention(p, x, key_bias);
    const Value attended =
        layer_norm(p + "attention_norm", f_.binary("add", x, dense(p + "attention_output", context)));
    const Value inner = activation(dense(p + "intermediate", attended));
    return layer_norm(p + "output_norm", f_.binary("add", attended, dense(p + "output", inner)));
  }

  Value attention(const std::string& p, const Value& x, const Value& key_bias) {
    const int64_t d = h_ / heads_;
    const std::vector<int64_t> split{b_, s_, heads_, d};
    const Value operand = f_.convert(x, products_);  // once for the three products
    const Value q = f_.convert(f_.reshape(dense(p + "query", operand), split), products_);
    const Value k = f_.convert(f_.reshape(dense(p + "key", operand), split), products_);
    const Value v = f_.convert(f_.reshape(dense(p + "value", operand), split), products_);
    // [B, heads, S queries, S keys]
    const Value scores =
        f_.with_scalar("multiply", f_.dot(q, k, {0, 2}, {0, 2}, {3}, {3}), 1.0f / std::sqrt(static_cast<float>(d)));
    const Value biased = f_.binary("add", scores, f_.broadcast(key_bias, {0, 3}, scores.dims));
    const Value shifted =
        f_.binary("subtract", biased, f_.broadcast(f_.reduce("maximum", biased, {3}), {0, 1, 2}, biased.dims));
    const Value exponentials = f_.unary("exponential", shifted);
    const Value probabilities = f_.binary(
        "divide", exponentials, f_.broadcast(f_.reduce("add", exponentials, {3}), {0, 1, 2}, exponentials.dims));
    // [B, heads, S, d] → [B, S, heads, d] → [B, S, H]
    const Value context = f_.dot(f_.convert(probabilities, products_), v, {0, 1}, {0, 2}, {3}, {1});
    return f_.reshape(f_.transpose(context, {0, 2, 1, 3}), {b_, s_, h_});
  }

  Value activation(const Value& x) {
    switch (config_.activation) {
      case model::Activation::relu:
        return f_.with_scalar("maximum", x, 0.0f);
      case model::Activation::gelu_tanh: {
        // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
        const Value cube = f_.binary("multiply", f_.binary("multiply", x, x), x);
        const Value inner = f_.binary("add", x, f_.with_scalar("multiply", cube, 0.044715f));
        const Value t = f_.unary("tanh", f_.with_scalar("multiply", inner, 0.797884561f));
        return f_.binary("multiply", f_.with_scalar("multiply", x, 0.5f), f_.with_scalar("add", t, 1.0f));
      }
      case model::Activation::gelu:
        break;
    }
    // 0.5 x (1 + erf(x / √2))
    const Value e = erf(f_.with_scalar("multiply", x, 0.707106781f));
    return f_.binary("multiply", f_.with_scalar("multiply", x, 0.5f), f_.with_scalar("add", e, 1.0f));
  }

  // erf is no StableHLO operation (JAX emits chlo.erf, which a plugin need not accept as text), so it is written out
  // as XLA's own float32 approximation (ErfImpl32, xla/client/lib/math.cc): x·P(x²)/Q(x²) on x clamped to [-4, 4].
  Value erf(const Value& x) {
    static constexpr float kAlpha[] = {-2.72614225801306e-10f, 2.77068142495902e-08f,  -2.10102402082508e-06f,
                                       -5.69250639462346e-05f, -7.34990630326855e-04f, -2.95459980854025e-03f,
                                       -1.60960333262415e-02f};
    static constexpr float kBeta[] = {-1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f,
                                      -7.37332916720468e-03f, -1.42647390514189e-02f};
    const Value clamped = f_.clamp(-4.0f, x, 4.0f);
    const Value square = f_.binary("multiply", clamped, clamped);
    auto polynomial = [&](std::span<const float> coefficients) {  // Horner's rule, highest power first
      Value sum = f_.constant(coefficients[0], x.dims);
      for (size_t i = 1; i < coefficients.size(); ++i) {
        sum = f_.with_scalar("add", f_.binary("multiply", sum, square), coefficients[i]);
      }
      return sum;
    };
    const Value numerator = f_.binary("multiply", clamped, polynomial(kAlpha));
    return f_.binary("divide", numerator, polynomial(kBeta));
  }

  // Each sequence's first row: [B, S, H] → [B, H].
  Value cls_rows(const Value& hidden) { return f_.reshape(f_.slice(hidden, {0, 0, 0}, {b_, 1, h_}), {b_, h_}); }

  const model::BertConfig& config_;
  int64_t b_, s_, h_, heads_;
  Element products_;  // of the matrix products' operands
  std::map<std::string, Value> parameters_;
  FunctionBody f_;
};

Result<void> check_program(const model::BertConfig& config, EncoderBucket bucket, const EncoderHead& head,
                           WeightPrecision precision) {
  if (precision != WeightPrecision::f32 && precision != WeightPrecision::bf16) {
    return Error{"the PJRT encoder computes in f32 or bf16; i8 is the CPU backend's only"};
  }
  if (bucket.batch == 0 || bucket.sequence == 0) return Error{"an encoder bucket needs a batch and a sequence length"};
  if (bucket.sequence > config.max_positions) {
    return Error{fmt::format("a bucket of {} tokens is longer than the model's {} positions", bucket.sequence,
                             config.max_positions)};
  }
  if (config.num_heads == 0 || config.hidden_size % config.num_heads != 0) {
    return Error{fmt::format("hidden_size {} is not a multiple of num_attention_heads {}", config.hidden_size,
                             config.num_heads)};
  }
  if (is_classifier(head) && config.head != model::BertHead::sequence_classification) {
    return Error{"the model has no sequence-classification head to classify with"};
  }
  return {};
}

}  // namespace

std::vector<EncoderParameter> encoder_parameters(const model::BertConfig& config, const EncoderHead& head) {
  std::vector<EncoderParameter> parameters;
  for (WeightEntry& entry : weight_entries(config, is_classifier(head), nullptr)) {
    parameters.push_back(std::move(entry.parameter));
  }
  return parameters;
}

Result<std::vector<std::span<const float>>> encoder_weight_values(const model::BertWeights& weights,
                                                                  const EncoderHead& head) {
  const bool classifier = is_classifier(head);
  if (classifier && (!weights.pooler || !weights.classifier)) {
    return Error{"the model has no pooler and classifier weights to classify with"};
  }
  if (weights.layers.size() != weights.config.num_layers) {
    return Error{fmt::format("the model has {} layers of weights, its config {}", weights.layers.size(),
                             weights.config.num_layers)};
  }
  return entry_values(weight_entries(weights.config, classifier, &weights));
}

Result<std::string> encoder_program(const model::BertConfig& config, EncoderBucket bucket, const EncoderHead& head,
                                    WeightPrecision precision) {
  if (auto checked = check_program(config, bucket, head, precision); !checked) return checked.error();
  const auto b = static_cast<int64_t>(bucket.batch), s = static_cast<int64_t>(bucket.sequence);
  const Element weights = precision == WeightPrecision::bf16 ? Element::bf16 : Element::f32;

  const Value ids{"%input_ids", {b, s}, Element::i32};
  const Value type_ids{"%token_type_ids", {b, s}, Element::i32};
  const Value mask{"%attention_mask", {b, s}, Element::f32};
  std::string arguments = fmt::format("{}: {}, {}: {}, {}: {}", ids.name, type_text(ids), type_ids.name,
                                      type_text(type_ids), mask.name, type_text(mask));
  std::map<std::string, Value> parameters;
  for (EncoderParameter& parameter : encoder_parameters(config, head)) {
    Value value{"%" + parameter.name, std::move(parameter.dims), weights};
    arguments += fmt::format(", {}: {}", value.name, type_text(value));
    parameters.emplace(std::move(parameter.name), std::move(value));
  }

  EncoderText encoder(config, bucket, precision, std::move(parameters));
  const Value hidden = encoder.encode(ids, type_ids, mask);
  const Value result = std::holds_alternative<EmbeddingHead>(head)
                           ? encoder.pool(std::get<EmbeddingHead>(head), hidden, mask)
                           : encoder.classify(hidden);
  return fmt::format(
      "module @inferd_encoder attributes {{mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32}} {{\n"
      "  func.func public @main({}) -> ({}) {{\n{}    return {} : {}\n  }}\n}}\n",
      arguments, type_text(result), encoder.body(), result.name, type_text(result));
}

}  // namespace tpustack::inferd::engine::pjrt
