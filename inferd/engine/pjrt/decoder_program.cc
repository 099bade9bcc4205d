#include "inferd/engine/pjrt/decoder_program.h"

#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "inferd/decoder/rotary_embedding.h"
#include "inferd/engine/pjrt/function_body.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

using stablehlo::Element;
using stablehlo::FunctionBody;
using stablehlo::type_text;
using stablehlo::Value;

// Scores of the keys a query must not see: exp() of it is 0 after the softmax's shift, and a row of padding that
// sees no key stays finite (every score equal), so no NaN reaches the real rows.
constexpr float kHidden = -1e9f;

// ---------------------------------------------------------------------------------------------------- weights

// Every weight parameter in program order; `weights` (which may be null) supplies the values. The one list both
// decoder_parameters and decoder_weight_values read, so that the two cannot disagree.
std::vector<WeightEntry> weight_entries(const model::DecoderConfig& config, const model::DecoderWeights* weights) {
  const auto h = static_cast<int64_t>(config.hidden_size);
  const auto d = static_cast<int64_t>(config.head_dim);
  const auto q_rows = static_cast<int64_t>(config.num_heads) * d;
  const auto kv_rows = static_cast<int64_t>(config.num_kv_heads) * d;
  const auto inner = static_cast<int64_t>(config.intermediate_size);
  std::vector<WeightEntry> entries;
  auto add = [&entries](std::string name, std::vector<int64_t> dims, const std::vector<float>* values) {
    entries.push_back({{std::move(name), std::move(dims)}, values});
  };
  auto dense = [&add](const std::string& name, int64_t out, int64_t in, bool bias, const model::DenseWeights* dense) {
    add(name + "_weight", {out, in}, dense ? &dense->weight : nullptr);
    if (bias) add(name + "_bias", {out}, dense ? &dense->bias : nullptr);
  };

  add("embed_tokens", {static_cast<int64_t>(config.vocab_size), h}, weights ? &weights->embed_tokens : nullptr);
  for (size_t l = 0; l < config.num_layers; ++l) {
    const model::DecoderLayerWeights* layer = weights ? &weights->layers[l] : nullptr;
    const std::string p = "layer" + std::to_string(l) + "_";
    add(p + "input_norm", {h}, layer ? &layer->input_norm : nullptr);
    dense(p + "q", q_rows, h, config.qkv_bias, layer ? &layer->q : nullptr);
    dense(p + "k", kv_rows, h, config.qkv_bias, layer ? &layer->k : nullptr);
    dense(p + "v", kv_rows, h, config.qkv_bias, layer ? &layer->v : nullptr);
    dense(p + "o", h, q_rows, config.output_bias, layer ? &layer->o : nullptr);
    add(p + "post_attention_norm", {h}, layer ? &layer->post_attention_norm : nullptr);
    dense(p + "gate", inner, h, false, layer ? &layer->gate : nullptr);
    dense(p + "up", inner, h, false, layer ? &layer->up : nullptr);
    dense(p + "down", h, inner, false, layer ? &layer->down : nullptr);
  }
  add("final_norm", {h}, weights ? &weights->final_norm : nullptr);
  if (!config.tie_word_embeddings) {
    dense("lm_head", static_cast<int64_t>(config.vocab_size), h, false,
          weights && weights->lm_head ? &*weights->lm_head : nullptr);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------- decoder

// One layer's cache: keys and values [R, KV x D], of the products' element type.
struct LayerCache {
  Value keys;
  Value values;
};

// The step's inputs other than the caches and weights, as decoder_program's comment lists them.
struct StepInputs {
  Value ids;
  Value positions;
  Value write_rows;
  Value context_rows;
  Value frequencies;
};

// The step over one bucket, written into a FunctionBody. Activations are [B, T, H] f32 throughout. No call takes two
// arguments that both emit operations: C++ leaves their order to the compiler, and the text must not depend on it.
class DecoderText {
 public:
  DecoderText(const model::DecoderConfig& config, DecoderBucket bucket, WeightPrecision precision,
              std::map<std::string, Value> parameters)
      : config_(config),
        b_(static_cast<int64_t>(bucket.batch)),
        t_(static_cast<int64_t>(bucket.tokens)),
        c_(static_cast<int64_t>(bucket.context)),
        h_(static_cast<int64_t>(config.hidden_size)),
        kv_(static_cast<int64_t>(config.num_kv_heads)),
        d_(static_cast<int64_t>(config.head_dim)),
        group_(static_cast<int64_t>(config.num_heads / config.num_kv_heads)),
        products_(precision == WeightPrecision::bf16 ? Element::bf16 : Element::f32),
        parameters_(std::move(parameters)) {}

  const std::string& body() const { return f_.text(); }

  // The last tokens' logits [B, V]; `caches` are updated in place.
  Value step(const StepInputs& inputs, std::vector<LayerCache>& caches) {
    const Value query_positions = f_.broadcast(inputs.positions, {0, 1}, {b_, t_, c_});
    const Value key_bias = key_bias_of(f_.iota({b_, t_, c_}, 2), query_positions);
    rotation(inputs.positions, inputs.frequencies);
    write_rows_ = f_.reshape(inputs.write_rows, {b_ * t_, 1});
    context_rows_ = f_.reshape(inputs.context_rows, {b_, c_, 1});

    Value x =
        f_.convert(f_.gather_rows(parameters_.at("embed_tokens"), f_.reshape(inputs.ids, {b_, t_, 1})), Element::f32);
    for (size_t l = 0; l < config_.num_layers; ++l) {
      x = layer("layer" + std::to_string(l) + "_", x, key_bias, caches[l]);
    }
    return logits(x, inputs.positions);
  }

 private:
  // A weight as f32, for the element-wise work.
  Value weight(const std::string& name) { return f_.convert(parameters_.at(name), Element::f32); }

  // [B, T, C]: 0 where a query may see the cache position, kHidden where not (after it, or outside the window).
  Value key_bias_of(const Value& cache_positions, const Value& query_positions) {
    const Value visible = f_.constant(0.0f, cache_positions.dims);
    const Value hidden = f_.constant(kHidden, cache_positions.dims);
    Value bias = f_.select(f_.compare("LE", cache_positions, query_positions), visible, hidden);
    if (config_.sliding_window) {
      // Within the window: cache position > query position - window.
      const Value shifted =
          f_.binary("add", cache_positions,
                    f_.integer_constant(static_cast<int64_t>(*config_.sliding_window), cache_positions.dims));
      bias = f_.select(f_.compare("GT", shifted, query_positions), bias, hidden);
    }
    return bias;
  }

  // cos_ and sin_ [B, T, D/2] of each token's angles, in f32 (the CPU decoder's are in double).
  void rotation(const Value& positions, const Value& frequencies) {
    const std::vector<int64_t> dims{b_, t_, d_ / 2};
    const Value at = f_.broadcast(f_.convert(positions, Element::f32), {0, 1}, dims);
    const Value angles = f_.binary("multiply", at, f_.broadcast(frequencies, {2}, dims));
    cos_ = f_.unary("cosine", angles);
    sin_ = f_.unary("sine", angles);
  }

  // Heads [B, T, N, D] rotated as rotate_half does: pairs (i, i + D/2).
  Value rotate(const Value& heads) {
    const int64_t n = heads.dims[2], half = d_ / 2;
    const std::vector<int64_t> dims{b_, t_, n, half};
    const Value first = f_.slice(heads, {0, 0, 0, 0}, {b_, t_, n, half});
    const Value second = f_.slice(heads, {0, 0, 0, half}, {b_, t_, n, d_});
    const Value cos = f_.broadcast(cos_, {0, 1, 3}, dims);
    const Value sin = f_.broadcast(sin_, {0, 1, 3}, dims);
    const Value first_cos = f_.binary("multiply", first, cos);
    const Value second_sin = f_.binary("multiply", second, sin);
    const Value second_cos = f_.binary("multiply", second, cos);
    const Value first_sin = f_.binary("multiply", first, sin);
    return f_.concatenate({f_.binary("subtract", first_cos, second_sin), f_.binary("add", second_cos, first_sin)}, 3);
  }

  // x · Wᵀ (+ b) over x's last dimension, W [out, in] as PyTorch stores it.
  Value dense(const std::string& name, const Value& x) {
    const Value product = f_.dot(f_.convert(x, products_), parameters_.at(name + "_weight"), {}, {},
                                 {static_cast<int64_t>(x.dims.size()) - 1}, {1});
    const auto bias = parameters_.find(name + "_bias");
    if (bias == parameters_.end()) return product;
    const Value b = f_.convert(bias->second, Element::f32);
    return f_.binary("add", product, f_.broadcast(b, {static_cast<int64_t>(product.dims.size()) - 1}, product.dims));
  }

  // Over the last dimension of x, in f32, as the CPU decoder's rms_norm.
  Value rms_norm(const std::string& name, const Value& x) {
    const auto last = static_cast<int64_t>(x.dims.size()) - 1;
    std::vector<int64_t> rows(x.dims.begin(), x.dims.end() - 1);
    std::vector<int64_t> row_dims(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) row_dims[i] = static_cast<int64_t>(i);
    const Value mean_square = f_.with_scalar("multiply", f_.reduce("add", f_.binary("multiply", x, x), {last}),
                                             1.0f / static_cast<float>(h_));
    const Value inverse = f_.unary("rsqrt", f_.with_scalar("add", mean_square, config_.rms_norm_eps));
    const Value normed = f_.binary("multiply", x, f_.broadcast(inverse, row_dims, x.dims));
    return f_.binary("multiply", normed, f_.broadcast(weight(name), {last}, x.dims));
  }

  // `cache` [R, KV x D] with each token's `heads` [B, T, KV, D] in its row, and then every sequence's context
  // [B, C, KV, D] read from its rows.
  Value write_and_read(Value& cache, const Value& heads) {
    cache = f_.scatter_rows(cache, write_rows_, f_.convert(f_.reshape(heads, {b_ * t_, kv_ * d_}), cache.element));
    return f_.reshape(f_.gather_rows(cache, context_rows_), {b_, c_, kv_, d_});
  }

  Value layer(const std::string& p, const Value& x, const Value& key_bias, LayerCache& cache) {
    const Value normed = f_.convert(rms_norm(p + "input_norm", x), products_);  // once for the three products
    const Value q = rotate(f_.reshape(dense(p + "q", normed), {b_, t_, kv_ * group_, d_}));
    const Value k = rotate(f_.reshape(dense(p + "k", normed), {b_, t_, kv_, d_}));
    const Value v = f_.reshape(dense(p + "v", normed), {b_, t_, kv_, d_});
    const Value keys = write_and_read(cache.keys, k);
    const Value values = write_and_read(cache.values, v);

    // Query head kv * group + g attends to key/value head kv. Scores [B, KV, T, G, C].
    const Value grouped = f_.convert(f_.reshape(q, {b_, t_, kv_, group_, d_}), products_);
    const Value scores =
        f_.with_scalar("multiply", f_.dot(grouped, f_.convert(keys, products_), {0, 2}, {0, 2}, {4}, {3}),
                       1.0f / std::sqrt(static_cast<float>(d_)));
    const Value biased = f_.binary("add", scores, f_.broadcast(key_bias, {0, 2, 4}, scores.dims));
    const Value shifted =
        f_.binary("subtract", biased, f_.broadcast(f_.reduce("maximum", biased, {4}), {0, 1, 2, 3}, biased.dims));
    const Value exponentials = f_.unary("exponential", shifted);
    const Value probabilities = f_.binary(
        "divide", exponentials, f_.broadcast(f_.reduce("add", exponentials, {4}), {0, 1, 2, 3}, exponentials.dims));
    // [B, KV, T, G, D] → [B, T, KV, G, D] → [B, T, heads x D]
    const Value weights = f_.convert(probabilities, products_);
    const Value context = f_.dot(weights, f_.convert(values, products_), {0, 1}, {0, 2}, {4}, {1});
    const Value merged = f_.reshape(f_.transpose(context, {0, 2, 1, 3, 4}), {b_, t_, kv_ * group_ * d_});
    const Value attended = f_.binary("add", x, dense(p + "o", merged));

    // SwiGLU: down(silu(gate) * up), silu(g) = g / (1 + exp(-g)).
    const Value normed_again = f_.convert(rms_norm(p + "post_attention_norm", attended), products_);
    const Value gate = dense(p + "gate", normed_again);
    const Value up = dense(p + "up", normed_again);
    const Value silu =
        f_.binary("divide", gate, f_.with_scalar("add", f_.unary("exponential", f_.unary("negate", gate)), 1.0f));
    return f_.binary("add", attended, dense(p + "down", f_.binary("multiply", silu, up)));
  }

  // The final norm and output projection of each sequence's token at its greatest position: [B, V].
  Value logits(const Value& x, const Value& positions) {
    const Value as_floats = f_.convert(positions, Element::f32);
    const Value greatest = f_.broadcast(f_.reduce("maximum", as_floats, {1}), {0}, {b_, t_});
    const Value last = f_.convert(f_.compare("EQ", as_floats, greatest), Element::f32);  // [B, T], one-hot
    const Value rows = f_.dot(last, x, {0}, {0}, {1}, {1}, "HIGHEST");                   // [B, H]
    const Value normed = f_.convert(rms_norm("final_norm", rows), products_);
    const Value& head = parameters_.at(config_.tie_word_embeddings ? "embed_tokens" : "lm_head_weight");
    return f_.dot(normed, head, {}, {}, {1}, {1});
  }

  const model::DecoderConfig& config_;
  int64_t b_, t_, c_, h_, kv_, d_, group_;
  Element products_;  // of the matrix products' operands
  std::map<std::string, Value> parameters_;
  FunctionBody f_;
  Value cos_, sin_;
  Value write_rows_;    // [B x T, 1]
  Value context_rows_;  // [B, C, 1]
};

Result<void> check_program(const model::DecoderConfig& config, DecoderBucket bucket, size_t cache_rows,
                           WeightPrecision precision) {
  if (auto supported = decoder_program_supports(config, precision); !supported) return supported;
  if (bucket.batch == 0 || bucket.tokens == 0 || bucket.context == 0 || cache_rows == 0) {
    return Error{"a decoder program needs a batch, tokens, context positions and cache rows"};
  }
  if (bucket.context > config.max_positions) {
    return Error{fmt::format("a context of {} positions is longer than the model's {} positions", bucket.context,
                             config.max_positions)};
  }
  return {};
}

}  // namespace

Result<void> decoder_program_supports(const model::DecoderConfig& config, WeightPrecision precision) {
  if (precision != WeightPrecision::f32 && precision != WeightPrecision::bf16) {
    return Error{"the PJRT decoder computes in f32 or bf16; i8 is the CPU backend's only"};
  }
  if (config.num_kv_heads == 0 || config.num_heads % config.num_kv_heads != 0 || config.head_dim % 2 != 0) {
    return Error{fmt::format("{} query heads do not group evenly over {} key/value heads of an even head_dim ({})",
                             config.num_heads, config.num_kv_heads, config.head_dim)};
  }
  return {};
}

std::vector<DecoderParameter> decoder_parameters(const model::DecoderConfig& config) {
  std::vector<DecoderParameter> parameters;
  for (WeightEntry& entry : weight_entries(config, nullptr)) parameters.push_back(std::move(entry.parameter));
  return parameters;
}

Result<std::vector<std::span<const float>>> decoder_weight_values(const model::DecoderWeights& weights) {
  const model::DecoderConfig& config = weights.config;
  if (weights.layers.size() != config.num_layers) {
    return Error{
        fmt::format("the model has {} layers of weights, its config {}", weights.layers.size(), config.num_layers)};
  }
  if (!config.tie_word_embeddings && !weights.lm_head) return Error{"the model has no lm_head and no tied embeddings"};
  return entry_values(weight_entries(config, &weights));
}

size_t decoder_cache_element_bytes(WeightPrecision precision) { return precision == WeightPrecision::bf16 ? 2 : 4; }

std::vector<float> decoder_rope_frequencies(const model::DecoderConfig& config) {
  const std::vector<double> frequencies = decoder::rope_inverse_frequencies(config);
  return {frequencies.begin(), frequencies.end()};
}

Result<std::string> decoder_program(const model::DecoderConfig& config, DecoderBucket bucket, size_t cache_rows,
                                    WeightPrecision precision) {
  if (auto checked = check_program(config, bucket, cache_rows, precision); !checked) return checked.error();
  const auto b = static_cast<int64_t>(bucket.batch), t = static_cast<int64_t>(bucket.tokens);
  const auto c = static_cast<int64_t>(bucket.context);
  const std::vector<int64_t> cache_dims{static_cast<int64_t>(cache_rows),
                                        static_cast<int64_t>(config.num_kv_heads * config.head_dim)};
  const Element weights = precision == WeightPrecision::bf16 ? Element::bf16 : Element::f32;

  const StepInputs inputs{{"%token_ids", {b, t}, Element::i32},
                          {"%positions", {b, t}, Element::i32},
                          {"%write_rows", {b, t}, Element::i32},
                          {"%context_rows", {b, c}, Element::i32},
                          {"%rope_inverse_frequencies", {static_cast<int64_t>(config.head_dim / 2)}, Element::f32}};
  std::vector<std::string> arguments;
  for (const Value* input :
       {&inputs.ids, &inputs.positions, &inputs.write_rows, &inputs.context_rows, &inputs.frequencies}) {
    arguments.push_back(input->name + ": " + type_text(*input));
  }
  // Each cache is its own result's (XLA's input-output alias, as JAX marks a donated argument), so that a plugin
  // updates it in place rather than copying every layer's cache each step.
  const auto aliased = [](const Value& cache, size_t result) {
    return fmt::format("{}: {} {{tf.aliasing_output = {} : i32}}", cache.name, type_text(cache), result);
  };
  std::vector<LayerCache> caches;
  for (size_t l = 0; l < config.num_layers; ++l) {
    const std::string p = "%layer" + std::to_string(l) + "_";
    caches.push_back({{p + "keys", cache_dims, weights}, {p + "values", cache_dims, weights}});
    arguments.push_back(aliased(caches.back().keys, 1 + 2 * l));  // results: the logits, then the caches
    arguments.push_back(aliased(caches.back().values, 2 + 2 * l));
  }
  std::map<std::string, Value> parameters;
  for (DecoderParameter& parameter : decoder_parameters(config)) {
    Value value{"%" + parameter.name, std::move(parameter.dims), weights};
    arguments.push_back(value.name + ": " + type_text(value));
    parameters.emplace(std::move(parameter.name), std::move(value));
  }
  DecoderText decoder(config, bucket, precision, std::move(parameters));
  std::vector<Value> results{decoder.step(inputs, caches)};
  for (const LayerCache& cache : caches) {
    results.push_back(cache.keys);
    results.push_back(cache.values);
  }
  std::string argument_text, result_names, result_types;
  for (const std::string& argument : arguments) argument_text += (argument_text.empty() ? "" : ", ") + argument;
  for (const Value& result : results) {
    result_names += (result_names.empty() ? "" : ", ") + result.name;
    result_types += (result_types.empty() ? "" : ", ") + type_text(result);
  }
  return fmt::format(
      "module @inferd_decoder attributes {{mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32}} {{\n"
      "  func.func public @main({}) -> ({}) {{\n{}    return {} : {}\n  }}\n}}\n",
      argument_text, result_types, decoder.body(), result_names, result_types);
}

}  // namespace tpustack::inferd::engine::pjrt
